package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class AdminJsonTest {

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void readsOneObject() throws Exception {
    assertThat(AdminJson.object(b("{\"uri\":\"/a\"}")).get("uri").asText()).isEqualTo("/a");
  }

  @Test
  void refusesWhatIsNotOneObject() {
    assertThatThrownBy(() -> AdminJson.object(b(""))).hasMessageContaining("empty body");
    assertThatThrownBy(() -> AdminJson.object(b("[1]")))
        .hasMessageContaining("array (expected: a JSON object)");
    assertThatThrownBy(() -> AdminJson.object(b("{\"a\":1} {\"b\":2}")))
        .hasMessageContaining("line 1");
  }

  @Test
  void aSyntaxErrorHasItsLineColumnAndTheLine() {
    assertThatThrownBy(() -> AdminJson.object(b("{\n  \"uri\": \"/a\"\n  \"x\": 1\n}")))
        .hasMessageContaining("line 3, column 3")
        .hasMessageContaining("the line reads: \"x\": 1");
  }

  @Test
  void aLuaTableGetsAHint() {
    assertThatThrownBy(() -> AdminJson.object(b("{\n  \"a\": {},\n  logger = {\n  }\n}")))
        .hasMessageContaining("line 3, column 3")
        .hasMessageContaining("`logger = {` is Lua table syntax")
        .hasMessageContaining("JSON needs \"logger\": value");
  }

  /** Web pages put no-break spaces between tokens (the seed's limit-req example has them). */
  @Test
  void noBreakSpacesBetweenTokensAreWhiteSpaceAndKeptInStrings() throws Exception {
    var node = AdminJson.object(b("{\u00a0 \"uri\":\u00a0\"/a\u00a0b\", \"q\": \"\\\"\u00a0\"}"));
    assertThat(node.get("uri").asText()).isEqualTo("/a\u00a0b");
    assertThat(node.get("q").asText()).isEqualTo("\"\u00a0");
  }
}
