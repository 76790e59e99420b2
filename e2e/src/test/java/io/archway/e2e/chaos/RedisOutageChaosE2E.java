package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.RedisServer;
import io.archway.e2e.Backends.HttpEcho;
import io.archway.model.testing.Ports;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 7, dependency outages (docs/chaos.md): the Redis server goes away under load. A
 * real {@code redis-server}, a real etcd, the dataplane's jar and a real HTTP backend. Three users
 * of that Redis at once:
 *
 * <ul>
 *   <li>{@code limit-count} with {@code policy: redis} and {@code allow_degradation: true}: fails
 *       open, every request served while Redis is away (0 failures);
 *   <li>the same with {@code allow_degradation: false} (APISIX's default): fails closed, as
 *       documented, a 500 for each request while Redis is away and nothing else (no reset, no
 *       timeout), 200s again once it is back;
 *   <li>the Redis stream proxy ({@code protocol.name: redis}): each command gets an error reply or
 *       a closed connection, never silence, and commands work again within {@link #PROXY_RECOVERY}
 *       of Redis being back.
 * </ul>
 */
class RedisOutageChaosE2E {

  /** The longest the Redis proxy may take to serve again once Redis answers (docs/chaos.md). */
  static final Duration PROXY_RECOVERY = Duration.ofSeconds(10);

  @TempDir Path dir;

  HttpEcho backend;
  RedisServer redis;
  int redisPort;
  int streamPort;
  EtcdDataplane stack;

  @BeforeEach
  void start() throws Exception {
    RedisServer.assumeInstalled();
    backend = new HttpEcho("a");
    redisPort = Ports.free();
    redis = new RedisServer(Files.createDirectories(dir.resolve("redis")), redisPort);
    streamPort = Ports.free();
    stack = EtcdDataplane.start(dir, List.of("--stream-port", Integer.toString(streamPort)));
    stack.put("routes/open", limited("/open/*", true));
    stack.put("routes/closed", limited("/closed/*", false));
    stack.put(
        "stream_routes/redis",
        "{\"server_port\":"
            + streamPort
            + ",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:"
            + redisPort
            + "\":1}},\"protocol\":{\"name\":\"redis\"}}");
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(
            () ->
                stack.get("/open/x").statusCode() == 200
                    && stack.get("/closed/x").statusCode() == 200);
  }

  private String limited(String uri, boolean degrade) {
    return "{\"uri\":\""
        + uri
        + "\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:"
        + backend.port()
        + "\":1}},\"plugins\":{\"limit-count\":{\"count\":100000000,\"time_window\":60,"
        + "\"policy\":\"redis\",\"redis_host\":\"127.0.0.1\",\"redis_port\":"
        + redisPort
        + ",\"redis_timeout\":1000,\"allow_degradation\":"
        + degrade
        + "}}}";
  }

  @AfterEach
  void stop() {
    if (stack != null) {
      stack.close();
    }
    if (redis != null) {
      redis.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private RedisLoad redisLoad(int clients) {
    return new RedisLoad(
        new InetSocketAddress("127.0.0.1", streamPort),
        clients,
        Duration.ofMillis(5),
        Duration.ofSeconds(5));
  }

  @Test
  void limitCountFailsOpenOrClosedAsConfiguredAndTheRedisProxyAnswersErrors() throws Exception {
    try (var warm = redisLoad(2).start()) {
      await().atMost(EtcdDataplane.WAIT).until(() -> warm.result().requests() > 20);
      assertThat(warm.stop().failed()).as("Redis proxy before the fault").isZero();
    }

    long seconds = EtcdDataplane.seconds();
    var open = Outages.load(stack, "/open/x", 8).start();
    var closed = Outages.load(stack, "/closed/x", 2).start();
    var proxy = redisLoad(4).start();
    Load.Result openResult;
    Load.Result closedResult;
    Load.Result proxyResult;
    try {
      redis.close();
      redis = null;
      Thread.sleep(Duration.ofSeconds(seconds));
    } finally {
      openResult = open.stop();
      closedResult = closed.stop();
      proxyResult = proxy.stop();
    }

    // Back, on the same port: how long until each path is served as before.
    redis = new RedisServer(dir.resolve("redis"), redisPort);
    long back = System.nanoTime();
    Outages.until(() -> stack.get("/closed/x").statusCode() == 200);
    var closedRecovery = Duration.ofNanos(System.nanoTime() - back);
    // The proxy waits for nothing once Redis is back: no reconnect backoff, and no connection the
    // server closed is kept (links, admission probes and spares are dropped when it closes them),
    // so the first new client is served. Bound (docs/chaos.md): PROXY_RECOVERY, a few round trips
    // with room for a loaded machine.
    Outages.until(
        () -> {
          try (var probe = redisLoad(1).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> probe.result().requests() >= 4);
            return probe.stop().failed() == 0;
          }
        });
    var proxyRecovery = Duration.ofNanos(System.nanoTime() - back);
    try (var afterHttp = Outages.load(stack, "/closed/x", 2).start()) {
      Thread.sleep(1000);
      assertThat(afterHttp.stop().failed()).as("fail-closed route after the fault").isZero();
    }

    ChaosReport.add("Redis down: limit-count, allow_degradation: true", seconds, openResult, null);
    ChaosReport.add(
        "Redis down: limit-count, allow_degradation: false (500 by design)",
        seconds,
        closedResult,
        closedRecovery);
    ChaosReport.add("Redis down: Redis stream proxy", seconds, proxyResult, proxyRecovery);
    System.out.printf(
        "redis down: open %s; closed %s; proxy %s%n", openResult, closedResult, proxyResult);

    assertThat(openResult.failed()).as("fail-open route: %s", openResult).isZero();
    // Fail closed: while Redis is away each request may get a 500 (the documented choice of
    // allow_degradation: false), and nothing else: no reset, no timeout, no other status.
    assertThat(closedResult.failures().keySet())
        .as("fail-closed route: %s", closedResult)
        .containsOnly(Load.Kind.STATUS);
    assertThat(closedResult.examples()).allSatisfy(f -> assertThat(f.status()).isEqualTo(500));
    // Redis away is warned about at most every 10 s, not per request.
    long warnings =
        Files.readAllLines(dir.resolve("dataplane.log")).stream()
            .filter(l -> l.contains("limit-count: redis:"))
            .count();
    assertThat(warnings).isPositive().isLessThanOrEqualTo(seconds / 10 + 2);
    assertThat(proxyRecovery).as("Redis proxy recovery").isLessThan(PROXY_RECOVERY);
    // The proxy: an error reply or a closed connection for each command, never silence.
    assertThat(proxyResult.failures().keySet())
        .as("Redis proxy: %s", proxyResult)
        .doesNotContain(Load.Kind.TIMEOUT, Load.Kind.ERROR, Load.Kind.BODY)
        .isNotEmpty();
  }
}
