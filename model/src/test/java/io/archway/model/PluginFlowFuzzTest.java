package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.testing.JsonMutator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the reading of PluginFlows (the DAG JSON): random graphs with cycles, missing and extra
 * nodes, several roots, bad and duplicate conditions, then structure mutations. Reading gives a
 * flow or a {@link ValidationException}, and a flow it gives keeps its promises: the root and every
 * edge's target are configured nodes, every node is reachable from the root, there is no loop, and
 * every condition parses. See docs/fuzzing.md.
 */
class PluginFlowFuzzTest {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final List<String> CONDITIONS =
      List.of("", "", "code == 200", "code == 401", "arg_a", "not consumer", "code ==", "(((", " ");

  @Property
  void randomGraphs(@ForAll("seeds") long seed) {
    check(graph(new Random(seed)));
  }

  @Property
  void mutatedGraphs(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    check(JsonMutator.mutate(graph(r), r, r.nextInt(1, 4)));
  }

  private static void check(JsonNode json) {
    PluginFlow flow;
    try {
      flow = (PluginFlow) ModelJson.read(Kind.PLUGIN_FLOWS, json, "f", "plugin_flows/f");
    } catch (ValidationException e) {
      assertThat(e.problems()).isNotEmpty();
      return;
    }
    var conf = flow.conf().keySet();
    var rule = flow.rule();
    assertThat(conf).contains(rule.root());
    rule.edges()
        .forEach(
            (from, edges) -> {
              assertThat(conf).contains(from);
              edges.forEach(
                  e -> {
                    assertThat(conf).contains(e.next());
                    if (!e.condition().isEmpty()) {
                      FlowCondition.parse(e.condition());
                    }
                  });
            });
    var seen = new HashSet<String>();
    assertThat(acyclic(rule, rule.root(), new HashSet<>(), seen))
        .as("a loop in an accepted flow: %s", json)
        .isTrue();
    assertThat(seen).as("nodes not reachable from the root: %s", json).isEqualTo(conf);
  }

  private static boolean acyclic(
      PluginFlow.Rule rule, String node, Set<String> path, Set<String> seen) {
    if (!path.add(node)) {
      return false;
    }
    seen.add(node);
    for (var e : rule.edgesOf(node)) {
      if (!acyclic(rule, e.next(), path, seen)) {
        return false;
      }
    }
    path.remove(node);
    return true;
  }

  /** A graph over a few nodes: random edges (loops possible), some nodes missing from conf. */
  static ObjectNode graph(Random r) {
    int n = r.nextInt(1, 6);
    var ids = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      ids.add("n" + i);
    }
    var json = F.objectNode();
    if (r.nextInt(5) > 0) {
      json.put("id", "f");
    }
    var rule = json.putObject("rule");
    rule.put("root", r.nextInt(8) == 0 ? "nowhere" : ids.get(r.nextInt(r.nextInt(4) == 0 ? n : 1)));
    for (var from : ids) {
      if (r.nextInt(3) == 0) {
        continue;
      }
      var edges = rule.putArray(from);
      for (int k = r.nextInt(0, 3); k > 0; k--) {
        // Mostly forward edges (a DAG); sometimes back, to itself, or to a node not configured.
        int at = ids.indexOf(from);
        String to =
            switch (r.nextInt(6)) {
              case 0 -> ids.get(r.nextInt(n));
              case 1 -> "ghost";
              default -> at + 1 < n ? ids.get(r.nextInt(at + 1, n)) : ids.get(r.nextInt(n));
            };
        edges.addArray().add(CONDITIONS.get(r.nextInt(CONDITIONS.size()))).add(to);
      }
    }
    var conf = json.putObject("conf");
    for (var id : ids) {
      if (r.nextInt(10) == 0) {
        continue;
      }
      var node = conf.putObject(id);
      node.put("name", r.nextInt(6) == 0 ? "" : "echo");
      if (r.nextInt(8) > 0) {
        node.putObject("conf");
      }
    }
    return json;
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
