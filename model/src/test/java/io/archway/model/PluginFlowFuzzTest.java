package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.testing.FlowGraphs;
import io.archway.model.testing.JsonMutator;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes the reading of PluginFlows (the DAG JSON): random graphs with cycles, missing and extra
 * nodes, several roots, bad and duplicate conditions, then structure mutations. Reading gives a
 * flow or a {@link ValidationException}, and a flow it gives keeps its promises: the root and every
 * edge's target are configured nodes, every node is reachable from the root, there is no loop, and
 * every condition parses. See docs/fuzzing.md.
 */
class PluginFlowFuzzTest {

  @Property
  void randomGraphs(@ForAll("seeds") long seed) {
    Statistics.label("flow").collect(check(FlowGraphs.graph(new Random(seed))));
    // A fuzz test whose inputs never get past validation tests nothing.
    Statistics.label("flow").coverage(c -> c.check("accepted").percentage(p -> p >= 2));
  }

  @Property
  void mutatedGraphs(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    check(JsonMutator.mutate(FlowGraphs.graph(r), r, r.nextInt(1, 4)));
  }

  private static String check(JsonNode json) {
    PluginFlow flow;
    try {
      flow = (PluginFlow) ModelJson.read(Kind.PLUGIN_FLOWS, json, "f", "plugin_flows/f");
    } catch (ValidationException e) {
      assertThat(e.problems()).isNotEmpty();
      return "rejected";
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
    return "accepted";
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

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
