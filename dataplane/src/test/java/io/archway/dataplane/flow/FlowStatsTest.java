package io.archway.dataplane.flow;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.plugin.Outcome;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-second rings behind {@code plugin_flows/{id}/stats}, and the counters' lifetime. */
class FlowStatsTest {

  final AtomicLong now = new AtomicLong(1_800_000_000_000L);
  final FlowStats stats = new FlowStats(now::get);

  static Map<String, String> nodes(String... idPlugin) {
    var out = new LinkedHashMap<String, String>();
    for (int i = 0; i < idPlugin.length; i += 2) {
      out.put(idPlugin[i], idPlugin[i + 1]);
    }
    return out;
  }

  FlowStats.Registered seed() {
    return stats.register(
        "plugin_flows/f1",
        nodes("a", "key-auth", "b", "limit-req", "c", "kafka-logger"),
        List.of(new String[] {"a", "b", "code == 401"}, new String[] {"a", "c", ""}));
  }

  void seconds(long s) {
    now.addAndGet(s * 1000);
  }

  long runs(int window) {
    return stats
        .window("plugin_flows/f1", window)
        .orElseThrow()
        .get("nodes")
        .get("a")
        .get("runs")
        .asLong();
  }

  @Test
  void countsFallOutOfTheWindowSecondBySecond() {
    var r = seed();
    var a = r.nodes().get("a");
    var toB = r.edges().get(0);
    for (int i = 0; i < 7; i++) {
      a.record(Outcome.message(401, "no key"));
      toB.taken();
    }
    a.record(null);
    a.record(Outcome.message(500, "failed"));
    stats.sample();
    seconds(30);
    a.record(null); // not sampled yet: counted as now
    var w = stats.window("plugin_flows/f1", 60).orElseThrow();
    assertThat(w.get("window").asInt()).isEqualTo(60);
    assertThat(w.get("nodes").get("a").get("runs").asLong()).isEqualTo(10);
    assertThat(w.get("nodes").get("a").get("errors").asLong()).isEqualTo(1);
    assertThat(w.get("nodes").get("a").get("rejected").asLong()).isEqualTo(7);
    assertThat(w.get("nodes").get("b").get("runs").asLong()).isZero();
    var edge = w.get("edges").get(0);
    assertThat(edge.get("from").asText()).isEqualTo("a");
    assertThat(edge.get("to").asText()).isEqualTo("b");
    assertThat(edge.get("condition").asText()).isEqualTo("code == 401");
    assertThat(edge.get("count").asLong()).isEqualTo(7);
    stats.sample();
    // Only the last run is within 10 s; after 40 s more, only it within 60 s.
    assertThat(runs(10)).isEqualTo(1);
    seconds(40);
    assertThat(runs(60)).isEqualTo(1);
    // Past 60 s by whole minutes: the first nine are 70 s old, in the window's first minute.
    assertThat(runs(600)).isEqualTo(10);
  }

  @Test
  void aSlotAnHourOldIsRestartedNeverAddedTo() {
    var a = seed().nodes().get("a");
    a.record(null);
    a.record(null);
    stats.sample();
    // The same second slot, an hour later (and a minute slot 61 minutes later).
    seconds(FlowStats.MAX_WINDOW);
    a.record(null);
    stats.sample();
    assertThat(runs(60)).isEqualTo(1);
    seconds(61 * 60);
    a.record(null);
    stats.sample();
    assertThat(runs(60)).isEqualTo(1);
    assertThat(runs(FlowStats.MAX_WINDOW)).isEqualTo(1);
  }

  @Test
  void aChangedFlowKeepsTheCountsOfWhatItStillHas() {
    var r = seed();
    r.nodes().get("a").record(null);
    r.nodes().get("c").record(null);
    r.edges().get(1).taken();
    // c is replaced by another plugin, b goes, d comes; the default edge now leads to d.
    var next =
        stats.register(
            "plugin_flows/f1",
            nodes("a", "key-auth", "c", "http-logger", "d", "echo"),
            List.<String[]>of(new String[] {"a", "d", ""}));
    assertThat(next.nodes().get("a")).isSameAs(r.nodes().get("a"));
    assertThat(next.nodes().get("c")).isNotSameAs(r.nodes().get("c"));
    var w = stats.window("plugin_flows/f1", 60).orElseThrow();
    assertThat(w.get("nodes").get("a").get("runs").asLong()).isEqualTo(1);
    assertThat(w.get("nodes").get("c").get("runs").asLong()).isZero();
    assertThat(w.get("nodes").has("b")).isFalse();
    assertThat(w.get("edges")).hasSize(1);
    assertThat(w.get("edges").get(0).get("count").asLong()).isZero();
  }

  @Test
  void metricsHaveTotalsByOutcomeAndEdge() {
    var r = seed();
    r.nodes().get("a").record(Outcome.message(401, "no key"));
    r.nodes().get("a").record(null);
    r.edges().get(0).taken();
    var out = new StringBuilder();
    stats.render(out);
    assertThat(out.toString())
        .contains("# TYPE archway_flow_node_runs_total counter")
        .contains(
            "archway_flow_node_runs_total{flow=\"f1\",node=\"a\",plugin=\"key-auth\","
                + "outcome=\"rejected\"} 1")
        .contains(
            "archway_flow_node_runs_total{flow=\"f1\",node=\"a\",plugin=\"key-auth\","
                + "outcome=\"continue\"} 1")
        .contains("archway_flow_edge_taken_total{flow=\"f1\",from=\"a\",to=\"b\"} 1")
        .contains("archway_flow_edge_taken_total{flow=\"f1\",from=\"a\",to=\"c\"} 0");
    // Two conditions leading to the same node: one series, summed.
    var twice =
        stats.register(
            "plugin_flows/f2",
            nodes("a", "key-auth", "b", "echo"),
            List.of(new String[] {"a", "b", "code == 401"}, new String[] {"a", "b", ""}));
    twice.edges().get(0).taken();
    twice.edges().get(1).taken();
    var again = new StringBuilder();
    stats.render(again);
    assertThat(again.toString())
        .containsOnlyOnce("archway_flow_edge_taken_total{flow=\"f2\",from=\"a\",to=\"b\"}")
        .contains("archway_flow_edge_taken_total{flow=\"f2\",from=\"a\",to=\"b\"} 2");
    stats.retainStored(java.util.Set.of());
    assertThat(stats.window("plugin_flows/f1", 60)).isEmpty();
  }
}
