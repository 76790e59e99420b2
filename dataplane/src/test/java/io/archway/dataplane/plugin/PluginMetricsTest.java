package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PluginMetricsTest {

  @Test
  void aKeptSeriesCountsWhereALookupWould() {
    var metrics = new PluginMetrics();
    var series = metrics.series("r1");
    series.request(null, 200, 1_000, 10, 20);
    metrics.request("r1", null, 200, 1_000, 1, 2);
    metrics.request("r1", "alice", 200, 1_000, 0, 0);
    // Back to the first consumer and status after another: the kept counter is the same one.
    series.request(null, 200, 1_000, 0, 0);
    series.request(null, 503, 1_000, 0, 0);

    var out = new StringBuilder();
    metrics.render(out);
    assertThat(out.toString())
        .contains("apisix_http_status{code=\"200\",route=\"r1\"")
        .contains("consumer=\"\",node=\"\"} 3\n")
        .contains("apisix_http_status{code=\"503\",route=\"r1\"")
        .contains("consumer=\"alice\",node=\"\"} 1\n")
        .contains("apisix_bandwidth{type=\"ingress\",route=\"r1\"} 11\n");
  }
}
