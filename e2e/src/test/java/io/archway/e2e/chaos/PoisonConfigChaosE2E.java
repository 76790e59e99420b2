package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.e2e.Backends.HttpEcho;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 9, poison config (docs/chaos.md): values written straight into etcd that a
 * controller would never write, each of which must affect only itself. Under a steady load on a
 * healthy route, four kinds of poison are written, one after the other, again and again for the
 * fault time each: malformed values (invalid JSON, the wrong shape, a huge string, a value in the
 * wrong directory, keys with odd characters), an upstream of 10,000 nodes with a route on it, a 1
 * MB plugin config (a {@code response-rewrite} body) and a route of 10,000 {@code vars} terms, and
 * a route whose {@code vars} regex is catastrophic for a backtracking engine, with the requests
 * that would trigger it. After each write a change to another route (the probe) must be served: the
 * poison never stalls other changes. The healthy route's load sees 0 failures throughout.
 *
 * <p>A real etcd, the dataplane's jar fed from it ({@link EtcdDataplane}), one real HTTP backend
 * for the healthy route, and for the 10,000 nodes a JDK HTTP server listening on the wildcard
 * address, so that each node can be a distinct loopback address ({@code 127.0.x.y}) of the same
 * port; only loopback addresses are ever used as nodes.
 */
class PoisonConfigChaosE2E {

  private static final int NODES = 10_000;

  @TempDir Path dir;

  EtcdDataplane stack;
  HttpEcho a;
  HttpServer wide;
  int probe;
  long probeMaxMillis;

  @BeforeEach
  void start() throws Exception {
    a = new HttpEcho("a");
    wide = HttpServer.create(new InetSocketAddress(0), 0);
    wide.createContext(
        "/",
        ex -> {
          var body = ("wide " + ex.getLocalAddress().getAddress().getHostAddress()).getBytes();
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    wide.start();
    stack = EtcdDataplane.start(dir);
    stack.put(
        "upstreams/a", "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:" + a.port() + "\":1}}");
    stack.put("routes/healthy", "{\"uri\":\"/healthy/*\",\"upstream_id\":\"a\"}");
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get("/healthy/x").statusCode() == 200);
  }

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
    if (wide != null) {
      wide.stop(0);
    }
    a.close();
  }

  private Load load() {
    return new Load(
        stack.uri("/healthy/x"),
        8,
        Duration.ofMillis(5),
        Duration.ofSeconds(5),
        (status, body) -> body.contains("\"backend\":\"a\"") ? null : "not backend a's answer");
  }

  /** One kind of poison: what it writes in round {@code i}, and what it checks after. */
  private interface Poison {
    void write(int i) throws Exception;
  }

  /**
   * Runs the load on the healthy route for the fault time while {@code poison} is written again and
   * again, each round followed by a change of the probe route that must be served; adds the
   * report's row and asserts 0 failures.
   */
  private Load.Result under(String name, Poison poison) throws Exception {
    long seconds = EtcdDataplane.seconds();
    probeMaxMillis = 0;
    int rounds = 0;
    var load = load().start();
    Load.Result result;
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      do {
        poison.write(++rounds);
        probe();
      } while (System.nanoTime() < end);
    } finally {
      result = load.stop();
    }
    ChaosReport.add(
        "poison config: "
            + name
            + " ("
            + rounds
            + " rounds; the next change served within "
            + probeMaxMillis
            + " ms)",
        seconds,
        result,
        null);
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    assertThat(result.requests()).as("requests sent").isGreaterThan(seconds * 50);
    return result;
  }

  /** Moves the probe route to a new path and waits until that path is served. */
  private void probe() throws Exception {
    var path = "/probe/" + ++probe;
    long start = System.nanoTime();
    stack.put("routes/probe", "{\"uri\":\"" + path + "\",\"upstream_id\":\"a\"}");
    await()
        .atMost(EtcdDataplane.WAIT)
        .pollInterval(Duration.ofMillis(5))
        .ignoreExceptions()
        .until(() -> stack.get(path).statusCode() == 200);
    probeMaxMillis = Math.max(probeMaxMillis, (System.nanoTime() - start) / 1_000_000);
  }

  private long metric(String name) throws Exception {
    var m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\d+)")
            .matcher(stack.status("/metrics").body());
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /** How many lines of the dataplane's log name {@code item} (for example {@code routes/x}). */
  private long logged(String item) throws Exception {
    return Files.readAllLines(dir.resolve("dataplane.log"), StandardCharsets.UTF_8).stream()
        .filter(l -> l.contains(item + ":") || l.contains(item + " "))
        .count();
  }

  @Test
  void eachPoisonAffectsOnlyItself() throws Exception {
    long rejectedBefore = metric("archway_config_items_rejected_total");

    // 1. Malformed values, rewritten each round (each time a new version of the same poison).
    var huge = "x".repeat(1_000_000);
    under(
        "malformed values (invalid JSON, wrong shape, 1 MB string, wrong directory, odd keys)",
        i -> {
          stack.put("routes/bad-json", "{\"uri\": \"/bad-json\", " + i);
          stack.put("routes/bad-shape", "{\"uri\": " + i + ", \"upstream\": \"a\"}");
          stack.put("routes/huge-string", "\"" + huge + i + "\"");
          stack.put("upstreams/a-route", "{\"uri\":\"/wrong-dir\",\"upstream_id\":\"a\"}");
          stack.put("nonsense/" + i, "{\"uri\":\"/nonsense\"}");
          stack.put("routes/odd key/../é\u0000%2F" + i, "{\"uri\":\"/odd\",\"upstream_id\":\"a\"}");
          stack.put("routes/", "{\"uri\":\"/empty-id\",\"upstream_id\":\"a\"}");
        });
    assertThat(stack.get("/bad-json").statusCode()).isEqualTo(404);
    assertThat(stack.get("/wrong-dir").statusCode()).isEqualTo(404);
    assertThat(stack.get("/nonsense").statusCode()).isEqualTo(404);
    // Skipped and counted: invalid now, and each version rejected once.
    assertThat(metric("archway_config_items_invalid")).isGreaterThanOrEqualTo(4);
    assertThat(metric("archway_config_items_rejected_total")).isGreaterThan(rejectedBefore);

    // 2. An upstream of 10,000 nodes, each a distinct loopback address, and a route on it.
    under(
        "an upstream of " + NODES + " nodes and a route on it",
        i -> {
          stack.put("upstreams/wide", wideUpstream(i));
          stack.put("routes/wide", "{\"uri\":\"/wide/*\",\"upstream_id\":\"wide\"}");
        });
    var seen = new java.util.HashSet<String>();
    for (int i = 0; i < 20; i++) {
      var r = stack.get("/wide/x");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).startsWith("wide 127.0.");
      seen.add(r.body());
    }
    assertThat(seen).as("nodes reached").hasSizeGreaterThan(1);

    // 3. A 1 MB plugin config, and a route of 10,000 vars terms.
    var body = "b".repeat(1 << 20);
    under(
        "a 1 MB plugin config and a route of " + NODES + " vars terms",
        i -> {
          stack.put(
              "plugin_configs/huge",
              "{\"plugins\":{\"response-rewrite\":{\"body\":\""
                  + body
                  + "\"}},\"desc\":\""
                  + i
                  + "\"}");
          stack.put(
              "routes/huge",
              "{\"uri\":\"/huge\",\"upstream_id\":\"a\",\"plugin_config_id\":\"huge\"}");
          stack.put("routes/many-vars", manyVars(i));
        });
    var big = stack.get("/huge");
    assertThat(big.statusCode()).isEqualTo(200);
    assertThat(big.body()).hasSize(1 << 20);
    assertThat(stack.get("/many-vars?v0=0").statusCode()).isEqualTo(200);

    // 4. A catastrophic regex in a route's vars, and requests that would trigger it.
    var trigger = "/redos?q=" + "a".repeat(64) + "!";
    under(
        "a catastrophic vars regex, ^(a+)+$, and requests triggering it",
        i -> {
          stack.put(
              "routes/redos",
              "{\"uri\":\"/redos\",\"upstream_id\":\"a\",\"desc\":\""
                  + i
                  + "\",\"vars\":[[\"arg_q\",\"~~\",\"^(a+)+$\"]]}");
          stack.put(
              "routes/lookahead",
              "{\"uri\":\"/lookahead\",\"upstream_id\":\"a\","
                  + "\"vars\":[[\"arg_q\",\"~~\",\"^(?!x)\"]]}");
          for (int k = 0; k < 5; k++) {
            assertThat(stack.get(trigger).statusCode()).isEqualTo(404);
          }
        });
    assertThat(stack.get("/redos?q=aaaa").statusCode()).isEqualTo(200);
    assertThat(stack.get("/lookahead?q=a").statusCode()).isEqualTo(404);
    // Each poison version said why once, not on every compile after it.
    assertThat(logged("routes/lookahead")).isEqualTo(1);
    assertThat(logged("routes/bad-shape")).isBetween(1L, (long) probe);
  }

  /** {@value #NODES} nodes: 127.0.x.y, all on the wildcard server's port. */
  private String wideUpstream(int round) {
    var nodes = new StringBuilder();
    int port = wide.getAddress().getPort();
    for (int n = 0; n < NODES; n++) {
      if (n > 0) {
        nodes.append(',');
      }
      nodes
          .append("\"127.0.")
          .append(n / 250)
          .append('.')
          .append(n % 250 + 1)
          .append(':')
          .append(port)
          .append("\":1");
    }
    return "{\"type\":\"roundrobin\",\"desc\":\"" + round + "\",\"nodes\":{" + nodes + "}}";
  }

  /** A route whose vars are {@value #NODES} terms, any of which matches ({@code OR}). */
  private static String manyVars(int round) {
    var vars = new ArrayList<String>(List.of("\"OR\""));
    for (int n = 0; n < NODES; n++) {
      vars.add("[\"arg_v" + n + "\",\"==\",\"" + n + "\"]");
    }
    return "{\"uri\":\"/many-vars\",\"upstream_id\":\"a\",\"desc\":\""
        + round
        + "\",\"vars\":["
        + String.join(",", vars)
        + "]}";
  }
}
