package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.e2e.Backends.HttpEcho;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 1, config churn (docs/chaos.md): under a steady load on a route, its config keeps
 * changing, and not one request may fail. A real etcd, the dataplane's jar as a process fed
 * straight from etcd ({@link EtcdDataplane}) and two real HTTP backends, both up throughout.
 */
class ConfigChurnChaosE2E {

  private static final Duration EVERY = Duration.ofMillis(100);

  @TempDir Path dir;

  EtcdDataplane stack;
  HttpEcho a;
  HttpEcho b;

  @BeforeEach
  void start() throws Exception {
    a = new HttpEcho("a");
    b = new HttpEcho("b");
    stack = EtcdDataplane.start(dir);
  }

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
    a.close();
    b.close();
  }

  /** The load of every scenario here: 8 clients, half on keep-alive connections, 5 ms apart. */
  private Load load(String path) {
    return new Load(
        stack.uri(path),
        8,
        Duration.ofMillis(5),
        Duration.ofSeconds(5),
        (status, body) ->
            body.contains("\"backend\":\"a\"") || body.contains("\"backend\":\"b\"")
                ? null
                : "not an answer of either backend");
  }

  private String upstream(HttpEcho node) {
    return "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:" + node.port() + "\":1}}";
  }

  private static String route(int version) {
    return "{\"uri\":\"/churn/*\",\"upstream_id\":\"churn\",\"plugin_config_id\":\"churn\","
        + "\"plugins\":{\"proxy-rewrite\":{\"headers\":{\"set\":{\"X-Route-Version\":\""
        + version
        + "\"}}}}}";
  }

  /** Every other version also has {@code cors}: a plugin added and removed, not only changed. */
  private static String pluginConfig(int version) {
    return "{\"plugins\":{\"response-rewrite\":{\"headers\":{\"set\":{\"X-Plugin-Version\":\""
        + version
        + "\"}}}"
        + (version % 2 == 1 ? ",\"cors\":{}" : "")
        + "}}";
  }

  @Test
  void aRouteItsUpstreamAndItsPluginChangingEvery100MillisecondsFailNoRequest() throws Exception {
    stack.put("upstreams/churn", upstream(a));
    stack.put("plugin_configs/churn", pluginConfig(0));
    stack.put("routes/churn", route(0));
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get("/churn/x").statusCode() == 200);

    long seconds = EtcdDataplane.seconds();
    int routeVersion = 0;
    int pluginVersion = 0;
    boolean onA = true;
    var load = load("/churn/x").start();
    Load.Result result;
    try {
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      for (int i = 1; System.nanoTime() < end; i++) {
        switch (i % 3) {
          case 0 -> stack.put("routes/churn", route(++routeVersion));
          case 1 -> {
            onA = !onA;
            stack.put("upstreams/churn", upstream(onA ? a : b));
          }
          default -> stack.put("plugin_configs/churn", pluginConfig(++pluginVersion));
        }
        long next = start + i * EVERY.toNanos();
        long wait = next - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      }
    } finally {
      result = load.stop();
    }
    ChaosReport.add(
        "config churn: route, upstream nodes, plugin every 100 ms", seconds, result, null);

    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    assertThat(a.seen()).as("backend a reached").isNotEmpty();
    assertThat(b.seen()).as("backend b reached").isNotEmpty();
    // The last change of each is what is served.
    var last = onA ? "a" : "b";
    var lastRoute = "" + routeVersion;
    var lastPlugin = "" + pluginVersion;
    await()
        .atMost(EtcdDataplane.WAIT)
        .untilAsserted(
            () -> {
              var r = stack.get("/churn/x");
              assertThat(r.body())
                  .contains("\"backend\":\"" + last + "\"")
                  .contains("\"x-route-version\":[\"" + lastRoute + "\"]");
              assertThat(r.headers().firstValue("X-Plugin-Version")).contains(lastPlugin);
            });
  }

  @Test
  void aFullReApplyOfEveryRouteFailsNoRequestOnOne() throws Exception {
    int routes = EtcdDataplane.routes();
    stack.put("upstreams/all", upstream(a));
    stack.putAll(routes(routes, 0), 64);
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get("/r/" + (routes - 1)).statusCode() == 200);

    long seconds = EtcdDataplane.seconds();
    int rounds = 0;
    var load = load("/r/" + routes / 2).start();
    Load.Result result;
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      do {
        stack.putAll(routes(routes, ++rounds), 64);
      } while (System.nanoTime() < end);
    } finally {
      result = load.stop();
    }
    ChaosReport.add(
        "config churn: full re-apply of " + routes + " routes (" + rounds + " rounds)",
        seconds,
        result,
        null);

    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    assertThat(stack.get("/r/0").statusCode()).isEqualTo(200);
    assertThat(stack.get("/r/" + (routes - 1)).statusCode()).isEqualTo(200);
  }

  /** Every route, each on its own path, all on one upstream; {@code round} changes each one. */
  private static LinkedHashMap<String, String> routes(int n, int round) {
    var keys = new LinkedHashMap<String, String>();
    for (int i = 0; i < n; i++) {
      keys.put(
          "routes/r" + i,
          "{\"uri\":\"/r/"
              + i
              + "\",\"upstream_id\":\"all\",\"desc\":\"round "
              + round
              + "\",\"labels\":{\"round\":\""
              + round
              + "\"}}");
    }
    return keys;
  }
}
