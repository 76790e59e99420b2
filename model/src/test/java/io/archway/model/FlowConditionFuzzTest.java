package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes {@link FlowCondition#parse} (PluginFlow edge conditions, from config): token soups and
 * random text parse or fail with {@link IllegalArgumentException} naming the place, never with
 * anything else. See docs/fuzzing.md.
 */
class FlowConditionFuzzTest {

  private static final List<String> TOKENS =
      List.of(
          "code",
          "arg_x",
          "http_user-agent",
          "consumer",
          "==",
          "~=",
          "!=",
          "<",
          "<=",
          ">",
          ">=",
          "~~",
          "and",
          "or",
          "not",
          "(",
          ")",
          "'text'",
          "\"s\"",
          "'unclosed",
          "200",
          "-1.5",
          "1.2.3",
          "1e400",
          "true",
          "false",
          "nil",
          "'[a-'",
          "'(a|b)*'",
          "'\\''",
          "!",
          "=",
          "~",
          "@",
          "",
          " ",
          "\t");

  @Property
  void tokenSoup(@ForAll("soup") String text) {
    parse(text);
  }

  @Property
  void randomText(@ForAll("text") String text) {
    parse(text);
  }

  @Example
  void deepNestingIsAParseErrorNotAStackOverflow() {
    // Found by this fuzz test: the recursive descent had no depth limit, and a condition of a few
    // thousand "not" or "(" in a config overflowed the stack of the thread reading the config.
    assertThatThrownBy(() -> FlowCondition.parse("not ".repeat(100_000) + "code"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nested");
    assertThatThrownBy(
            () -> FlowCondition.parse("(".repeat(100_000) + "code" + ")".repeat(100_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nested");
    assertThat(FlowCondition.parse("(".repeat(60) + "code == 200" + ")".repeat(60)))
        .isInstanceOf(FlowCondition.Compare.class);
  }

  private static void parse(String text) {
    try {
      assertThat(FlowCondition.parse(text)).isNotNull();
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isNotBlank();
    }
  }

  @Provide
  Arbitrary<String> soup() {
    var token = Arbitraries.of(TOKENS);
    var repeatedOpen =
        Arbitraries.integers().between(1, 200).map(n -> "(".repeat(n) + "code" + ")".repeat(n));
    var repeatedNot = Arbitraries.integers().between(1, 200).map(n -> "not ".repeat(n) + "x");
    return Arbitraries.oneOf(
        token.list().ofMaxSize(12).map(l -> String.join(" ", l)),
        token.list().ofMaxSize(12).map(l -> String.join("", l)),
        repeatedOpen,
        repeatedNot);
  }

  @Provide
  Arbitrary<String> text() {
    return Arbitraries.strings().withChars("()'\"=~!<>andortx0123 ._-\\\té").ofMaxLength(40);
  }
}
