package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PluginMetricsTest {

  @Test
  void aKeptSeriesCountsWhereALookupWould() {
    var metrics = new PluginMetrics();
    var series = metrics.series("r1", null, 200);
    series.request(1_000, 10, 20);
    metrics.request("r1", null, 200, 1_000, 1, 2);
    metrics.request("r1", "alice", 200, 1_000, 0, 0);

    var out = new StringBuilder();
    metrics.render(out);
    assertThat(out.toString())
        .contains("apisix_http_status{code=\"200\",route=\"r1\"")
        .contains("consumer=\"\",node=\"\"} 2\n")
        .contains("consumer=\"alice\",node=\"\"} 1\n")
        .contains("apisix_bandwidth{type=\"ingress\",route=\"r1\"} 11\n");
  }
}
