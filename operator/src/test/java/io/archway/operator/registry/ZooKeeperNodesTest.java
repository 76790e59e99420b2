package io.archway.operator.registry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.model.UpstreamNode;
import org.junit.jupiter.api.Test;

class ZooKeeperNodesTest {

  private static java.util.List<UpstreamNode> parse(String json) {
    return ZooKeeperNodes.parse(json.getBytes(UTF_8), 100);
  }

  @Test
  void apisixSeedsArrayLayout() {
    assertThat(
            parse(
                "[{\"host\":\"10.0.0.1\",\"port\":1980,\"weight\":50},{\"host\":\"h\",\"port\":80}]"))
        .containsExactly(
            new UpstreamNode("10.0.0.1", 1980, 50, null, null),
            new UpstreamNode("h", 80, 100, null, null));
  }

  @Test
  void apisixSeedsFirstLayoutOneObjectWithThePortInTheHost() {
    assertThat(parse("{\"host\":\"127.0.0.1:1980\",\"weight\":100}"))
        .containsExactly(new UpstreamNode("127.0.0.1", 1980, 100, null, null));
    assertThat(parse("{\"host\":\"[::1]:8080\"}"))
        .containsExactly(new UpstreamNode("::1", 8080, 100, null, null));
    assertThat(parse("{\"host\":\"::1\",\"port\":8080}"))
        .containsExactly(new UpstreamNode("::1", 8080, 100, null, null));
  }

  @Test
  void noDataIsNoNodes() {
    assertThat(ZooKeeperNodes.parse(new byte[0], 100)).isEmpty();
    assertThat(parse("[]")).isEmpty();
  }

  @Test
  void faultsAreNamed() {
    assertThatThrownBy(() -> parse("not json"))
        .hasMessageContaining("not JSON (expected: [{\"host\"");
    assertThatThrownBy(() -> parse("[{\"host\":\"a\",\"port\":0}]"))
        .hasMessage("[0].port: \"0\" (expected: an integer 1..65535)");
    assertThatThrownBy(() -> parse("[{\"port\":80}]"))
        .hasMessage("[0].host: missing (expected: an address or a name)");
    assertThatThrownBy(() -> parse("[{\"host\":\"a\",\"weight\":\"x\"}]"))
        .hasMessage("[0].weight: \"x\" (expected: an integer 0..65535)");
    assertThatThrownBy(() -> parse("[1]")).hasMessageContaining("[0]: 1 (expected: an object");
  }
}
