package io.archway.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.dataplane.testing.RecordingResolverProvider;
import io.archway.model.Vars;
import io.archway.model.testing.JsonMutator;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes a route's {@code vars}: random nested expressions (groups, negations, every operator,
 * regexes, {@code in} lists, {@code ipmatch} ranges, values of every JSON type) are parsed as the
 * model parses them ({@link IllegalArgumentException} or an expression), and what parses compiles
 * ({@link VarsMatcher#compile}) and matches requests of random variables without an exception and
 * without a name lookup. See docs/fuzzing.md.
 */
class VarsMatcherFuzzTest {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final List<String> NAMES =
      List.of("arg_a", "http_x_user", "remote_addr", "uri", "cookie_c", "host", "", "arg_");
  private static final List<String> OPS =
      List.of(
          "==", "~=", ">", ">=", "<", "<=", "~~", "~*", "in", "has", "ipmatch", "IN", "=", "!",
          "x");
  private static final List<String> REGEXES =
      List.of("^/a", "[a-", "(a|b)*c", "(?i)x", ".*", "\\d+", "(", "a{2,1}", "\\");
  private static final List<String> VALUES =
      List.of(
          "1",
          "-1",
          "1e3",
          "0x10",
          "NaN",
          "Infinity",
          "1_0",
          "abc",
          "",
          "127.0.0.1",
          "::1",
          "10.0.0.0/8",
          "10.0.0.0/33",
          "::/0",
          "1.2.3",
          "300.1.1.1",
          "fe80::1%eth0");

  @Property
  void randomExpressions(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    Statistics.label("vars").collect(check(group(r, 3), r));
    // A fuzz test whose inputs never get past parsing tests nothing.
    Statistics.label("vars").coverage(c -> c.check("matched").percentage(p -> p >= 5));
  }

  @Property
  void mutatedExpressions(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    var json = JsonMutator.mutate(group(r, 3), r, r.nextInt(1, 4));
    check(json, r);
  }

  @Example
  void aRegexSearchThatOverflowsTheStackIsNoMatch() {
    // Found by this fuzz test: (a|b)* recurses once per character in Java's regex engine, and a
    // header of a few thousand characters overflowed the stack of the event loop on each request.
    var vars = F.arrayNode().add(F.arrayNode().add("http_x_user").add("~~").add("(a|b)*c"));
    var matcher = VarsMatcher.compile(Vars.parse(vars));
    var values = Map.of("http_x_user", "ab".repeat(16_000));
    assertThat(matcher.matches(of(values))).isFalse();
    assertThat(matcher.matches(of(Map.of("http_x_user", "abc")))).isTrue();
  }

  @Example
  void ipmatchOnARequestValueLooksNothingUp() throws Exception {
    // Found while fuzzing ipmatch: a value that starts with a digit but is a name
    // ("1.example.invalid" in a header) went to InetAddress.getByName, a DNS lookup on the event
    // loop, chosen by the client.
    InetAddress.getByName("localhost"); // the resolver is loaded and recording
    var vars = F.arrayNode().add(F.arrayNode().add("http_x_user").add("ipmatch").add("10.0.0.0/8"));
    var matcher = VarsMatcher.compile(Vars.parse(vars));
    for (var name : List.of("1.example.invalid", "10.example.invalid", "1x", "1.2.3")) {
      assertThat(matcher.matches(of(Map.of("http_x_user", name)))).isFalse();
      assertThat(RecordingResolverProvider.lookups()).doesNotContain(name);
    }
    assertThat(matcher.matches(of(Map.of("http_x_user", "10.1.2.3")))).isTrue();
    assertThat(matcher.matches(of(Map.of("http_x_user", "::ffff:10.1.2.3")))).isTrue();
  }

  private static String check(JsonNode json, Random r) {
    if (!(json instanceof ArrayNode vars)) {
      return "not an array"; // the model checks vars is an array first
    }
    Vars.Expr expr;
    try {
      expr = Vars.parse(vars);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isNotBlank();
      return "invalid";
    }
    var matcher = VarsMatcher.compile(expr);
    int lookups = RecordingResolverProvider.lookups().size();
    for (int i = 0; i < 8; i++) {
      matcher.matches(variables(r));
    }
    // Matching runs on an event loop: it never looks a request's value up.
    var all = RecordingResolverProvider.lookups();
    assertThat(all.subList(lookups, all.size())).doesNotContainAnyElementsOf(VALUES);
    return "matched";
  }

  /** {@code [AND|OR|!AND|!OR, ...]}, or a list of terms and groups. */
  private static ArrayNode group(Random r, int depth) {
    var a = F.arrayNode();
    int head = r.nextInt(6);
    if (head < 4) {
      a.add(List.of("AND", "OR", "!AND", "!OR").get(head));
    }
    for (int i = r.nextInt(0, 4); i > 0; i--) {
      a.add(depth > 0 && r.nextInt(4) == 0 ? group(r, depth - 1) : term(r));
    }
    return a;
  }

  private static ArrayNode term(Random r) {
    var t = F.arrayNode();
    t.add(NAMES.get(r.nextInt(NAMES.size())));
    if (r.nextInt(4) == 0) {
      t.add("!");
    }
    var op = OPS.get(r.nextInt(OPS.size()));
    t.add(op);
    t.add(
        switch (op) {
          case "~~", "~*" -> F.textNode(REGEXES.get(r.nextInt(REGEXES.size())));
          case "in", "IN", "ipmatch" -> {
            var list = F.arrayNode();
            for (int i = r.nextInt(0, 4); i > 0; i--) {
              list.add(
                  r.nextBoolean()
                      ? F.textNode(VALUES.get(r.nextInt(VALUES.size())))
                      : JsonMutator.value(r, 1));
            }
            yield r.nextInt(5) == 0 ? F.textNode(VALUES.get(r.nextInt(VALUES.size()))) : list;
          }
          default ->
              r.nextBoolean()
                  ? F.textNode(VALUES.get(r.nextInt(VALUES.size())))
                  : JsonMutator.value(r, 1);
        });
    if (r.nextInt(10) == 0) {
      t.add("extra");
    }
    return t;
  }

  private static Variables variables(Random r) {
    Map<String, String> values = new HashMap<>();
    for (var name : NAMES) {
      if (r.nextInt(3) > 0) {
        values.put(
            name,
            r.nextInt(10) == 0
                ? "ab".repeat(r.nextInt(1, 5000)) // long input for regexes
                : VALUES.get(r.nextInt(VALUES.size())));
      }
    }
    return of(values);
  }

  private static Variables of(Map<String, String> values) {
    InetAddress address;
    try {
      address = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
    return new Variables() {
      @Override
      public String get(String name) {
        return values.get(name);
      }

      @Override
      public InetAddress remoteAddress() {
        return address;
      }
    };
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
