package io.archway.dataplane.flow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.Variables;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.PluginFlow;
import io.archway.model.Problem;
import io.archway.model.ValidationException;
import io.archway.model.testing.FlowGraphs;
import io.archway.model.testing.JsonMutator;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes PluginFlows from their JSON to what requests run: random graphs (loops, missing nodes,
 * unknown plugins, bad conditions) and their mutations are read by the model; what it accepts
 * compiles ({@link CompiledFlow#compile}) with the real plugins, or fails with problems named by
 * node, and the compiled conditions evaluate on random requests without an exception. See
 * docs/fuzzing.md.
 */
class CompiledFlowFuzzTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private static final PluginServices SERVICES = new PluginServices();

  @AfterContainer
  static void close() {
    SERVICES.close();
  }

  @Property
  void randomFlows(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    Statistics.label("flow").collect(check(FlowGraphs.graph(r), r));
    // A fuzz test whose inputs never get past validation tests nothing.
    Statistics.label("flow").coverage(c -> c.check("compiled").percentage(p -> p >= 2));
  }

  @Property
  void mutatedFlows(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    check(JsonMutator.mutate(FlowGraphs.graph(r), r, r.nextInt(1, 4)), r);
  }

  private static String check(JsonNode json, Random r) {
    PluginFlow flow;
    try {
      flow = (PluginFlow) ModelJson.read(Kind.PLUGIN_FLOWS, json, "f", "plugin_flows/f");
    } catch (ValidationException e) {
      return "invalid";
    }
    var problems = new ArrayList<Problem>();
    var compiled = CompiledFlow.compile(flow, "routes/r", REGISTRY, SERVICES, problems);
    if (compiled == null) {
      assertThat(problems).isNotEmpty().allSatisfy(p -> assertThat(p.path()).startsWith("conf."));
      return "not compiled";
    }
    assertThat(problems).isEmpty();
    assertThat(compiled.root()).isNotNull();
    for (int i = 0; i < compiled.size(); i++) {
      for (var e : compiled.node(i).edges()) {
        assertThat(e.next()).isBetween(0, compiled.size() - 1);
        if (e.when() != null) {
          for (int k = 0; k < 4; k++) {
            e.when().test(variables(r));
          }
        }
      }
    }
    return "compiled";
  }

  private static Variables variables(Random r) {
    var values =
        Map.of(
            "code", List.of("200", "401", "1e3", "x", "").get(r.nextInt(5)),
            "arg_a", r.nextBoolean() ? "1" : "0",
            "http_x", "ab".repeat(r.nextInt(1, r.nextInt(10) == 0 ? 20_000 : 10)));
    return new Variables() {
      @Override
      public String get(String name) {
        return values.get(name);
      }

      @Override
      public InetAddress remoteAddress() {
        return null;
      }
    };
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
