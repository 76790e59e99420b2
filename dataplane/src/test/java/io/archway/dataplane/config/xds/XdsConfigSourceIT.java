package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsMesh.RATINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.Upstream;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigState;
import io.archway.model.testing.Ports;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The xDS source's lifecycle: its initial fetch timeout, and a close during a reconnect wait. */
class XdsConfigSourceIT {

  private static final io.envoyproxy.envoy.config.core.v3.Node NODE =
      XdsNode.of(null, null, Map.of("POD_NAME", "gw-1", "POD_NAMESPACE", "istio-system"));

  @Test
  void afterTheInitialFetchTimeoutWhatCameIsServedNotReadyAndWhatDidNotIsNamed() throws Exception {
    try (var mesh = new XdsMesh()) {
      mesh.startNodes();
      // The ratings cluster's load assignment never comes.
      var full = mesh.bookinfo("1", 20, 30, 50, false);
      var partial =
          Snapshot.create(
              full.clusters().resources().values(),
              full.endpoints().resources().values().stream()
                  .filter(e -> !e.getClusterName().equals(RATINGS))
                  .toList(),
              full.listeners().resources().values(),
              full.routes().resources().values(),
              List.of(),
              "1");
      int port = mesh.serve(partial);
      var state = new AtomicReference<ConfigState>();
      var settings =
          new XdsConfigSource.Settings(
                  "127.0.0.1:" + port, NODE, Duration.ofMillis(50), Duration.ofMillis(500))
              .with(XdsConfigSource.Protocol.DELTA, Duration.ofSeconds(1));
      var source = new XdsConfigSource(settings);
      try {
        source.start(listener(state));
        await().atMost(Duration.ofSeconds(20)).until(() -> state.get() != null);
        // What else was named comes soon after; the missing load assignment stays named.
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(source.status().lastError())
                        .startsWith(
                            "xds: no complete config from 127.0.0.1:" + port + " within 1000 ms")
                        .endsWith("missing: load assignment \"" + RATINGS + "\""));
        // Served, yet not ready (/readyz 503) while the config is not complete.
        assertThat(source.status().loaded()).isFalse();
        // The ratings upstream is there, without nodes (503, as Envoy answers).
        assertThat(state.get().items().values())
            .map(ConfigItem::value)
            .filteredOn(o -> o instanceof Upstream u && u.desc().equals("xds cluster " + RATINGS))
            .isNotEmpty() // the cluster's, and its copy with the retry route's policy
            .allSatisfy(o -> assertThat(((Upstream) o).nodes().nodes()).isEmpty());
      } finally {
        source.close();
      }
    }
  }

  @Test
  void closeDoesNotWaitForAPendingReconnect() throws Exception {
    int port = Ports.free(); // nothing listens there
    for (var protocol : XdsConfigSource.Protocol.values()) {
      var source =
          new XdsConfigSource(
              new XdsConfigSource.Settings(
                      "127.0.0.1:" + port, NODE, Duration.ofMinutes(1), Duration.ofMinutes(2))
                  .with(protocol, Duration.ZERO));
      source.start(listener(new AtomicReference<>()));
      // The first attempt failed: the next one waits at least a minute.
      await().atMost(Duration.ofSeconds(20)).until(() -> source.status().lastError() != null);
      long start = System.nanoTime();
      source.close();
      // Generous, yet well below both the backoff and the 5 s close() once waited for it.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
      assertThat(source.channelShutdown()).isTrue();
      source.close(); // a second close is harmless
    }
  }

  private static ConfigListener listener(AtomicReference<ConfigState> state) {
    return new ConfigListener() {
      @Override
      public void onState(ConfigState s) {
        state.set(s);
      }

      @Override
      public void onChanges(List<ConfigChange> changes, long revision) {}
    };
  }
}
