package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserRegexTest {

  /**
   * The classic catastrophic pattern: java.util.regex takes time exponential in the number of a's
   * to find that it does not match (30 a's are about a billion steps, 40 would not end today), so
   * this test would hang there. RE2 answers in time linear in the input.
   */
  @Test
  void aCatastrophicPatternIsAnsweredAtOnce() {
    var p = UserRegex.compile("vars[0][2]", "^(a+)+$");
    var input = "a".repeat(40) + "!";
    assertThat(UserRegex.find(p, input)).isFalse();
    assertThat(UserRegex.matches(p, input)).isFalse();
    assertThat(UserRegex.find(p, "a".repeat(40))).isTrue();
    var nested = UserRegex.compile("x", "(x+x+)+y");
    assertThat(UserRegex.find(nested, "x".repeat(5_000))).isFalse();
    var alternation = UserRegex.compile("x", "^(a|a?)+$");
    assertThat(UserRegex.find(alternation, "a".repeat(10_000) + "b")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "(a)\\1", // backreference
        "(?=a)b", // lookahead
        "(?!a)b", // negative lookahead
        "(?<=a)b", // lookbehind
        "(?<!a)b", // negative lookbehind
        "a++", // possessive
        "(?>a)", // atomic group
        "a{1,1001}", // over RE2's repeat limit
        "(" // not a regex at all
      })
  void whatRe2DoesNotAcceptIsRefusedNamingTheField(String regex) {
    assertThatThrownBy(() -> UserRegex.compile("plugins.x.regex_uri[0]", regex))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("plugins.x.regex_uri[0]: ")
        .hasMessageContaining(
            "(expected: a valid regular expression in RE2 syntax, without backreferences or"
                + " lookaround: ");
    assertThat(UserRegex.problem(regex)).startsWith(UserRegex.EXPECTED + ": ");
    var problems = new ArrayList<String>();
    assertThat(UserRegex.compile(regex, 0, problems::add)).isNull();
    assertThat(problems).singleElement().asString().startsWith(UserRegex.EXPECTED);
  }

  @Test
  void theMessageShowsThePatternAndWhy() {
    assertThatThrownBy(() -> UserRegex.compile("vars[0][2]", "(a)\\1"))
        .hasMessage(
            "vars[0][2]: \"(a)\\\\1\" (expected: "
                + UserRegex.EXPECTED
                + ": invalid escape sequence: `\\1`)");
    assertThatThrownBy(() -> UserRegex.compileAll("block_rules", List.of("a", "(?=b)"), 0))
        .hasMessageStartingWith("block_rules[1]: \"(?=b)\"");
  }

  @Test
  void whatBothEnginesShareWorksAsBefore() {
    assertThat(UserRegex.replaceFirst(UserRegex.compile("r", "^/api/(.*)"), "/api/x/y", "/v2/$1"))
        .isEqualTo("/v2/x/y");
    assertThat(
            UserRegex.replaceFirst(
                UserRegex.compile("r", "^/(?<svc>[a-z]+)/(\\d+)$"), "/users/42", "/${svc}?id=$2"))
        .isEqualTo("/users?id=42");
    assertThat(UserRegex.replaceFirst(UserRegex.compile("r", "^/a"), "/b", "/c")).isNull();
    assertThat(UserRegex.replaceFirst(UserRegex.compile("r", "x"), "axb", "\\$1"))
        .isEqualTo("a$1b");
    assertThat(
            UserRegex.replaceFirst(
                UserRegex.compile("r", "x"), "axb", UserRegex.quoteReplacement("$0\\")))
        .isEqualTo("a$0\\b");
    var ci = UserRegex.compile("r", "^/API", UserRegex.CASE_INSENSITIVE);
    assertThat(UserRegex.find(ci, "/api/x")).isTrue();
    assertThat(UserRegex.find(UserRegex.compile("r", "(?i)chrome"), "Mozilla Chrome/1")).isTrue();
    assertThat(UserRegex.matches(UserRegex.compile("r", "\\d+\\.\\w+\\s[[:alpha:]]"), "1.a b"))
        .isTrue();
    assertThat(UserRegex.find(UserRegex.compile("r", "\\p{L}+"), "é")).isTrue();
  }

  @Test
  void aRouteVarsRegexIsCompiledByRe2() {
    var f = JsonNodeFactory.instance;
    var vars = f.arrayNode().add(f.arrayNode().add("arg_name").add("~*").add("^(a+)+$"));
    var problems = new ArrayList<Problem>();
    var expr = (Vars.Term) ((Vars.Group) Vars.parse(vars, "vars", problems)).terms().get(0);
    assertThat(problems).isEmpty();
    assertThat(UserRegex.find(expr.regex(), "A".repeat(40) + "!")).isFalse();
    assertThat(UserRegex.find(expr.regex(), "AaA")).isTrue();

    var lookahead = f.arrayNode().add(f.arrayNode().add("uri").add("~~").add("^/(?!admin)"));
    Vars.parse(lookahead, "vars", problems);
    assertThat(problems)
        .singleElement()
        .asString()
        .startsWith("vars[0][2]: \"^/(?!admin)\" (expected: " + UserRegex.EXPECTED);
  }
}
