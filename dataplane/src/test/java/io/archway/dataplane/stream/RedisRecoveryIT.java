package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisServer;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Redis proxy when its server is killed and started again on the same port: a real {@code
 * redis-server}, SIGKILL, and the proxy on one event loop (so that every client shares that loop's
 * upstream connections).
 */
class RedisRecoveryIT {

  @TempDir Path dir;
  RedisServer redis;
  int redisPort;
  int proxyPort;
  Gateways gw;

  @BeforeEach
  void start() throws Exception {
    RedisServer.assumeInstalled();
    redisPort = Ports.free();
    redis = new RedisServer(Files.createDirectories(dir.resolve("redis")), redisPort);
    proxyPort = Ports.free();
    var yaml =
        """
        stream_routes:
          - id: redis
            server_port: %d
            upstream: {nodes: {"127.0.0.1:%d": 1}}
            protocol: {name: redis, conf: {deny_commands: [flushall]}}
        """
            .formatted(proxyPort, redisPort);
    gw =
        Gateways.start(
            dir,
            yaml,
            o ->
                o.withWorkers(1).withStream(StreamSettings.DEFAULTS.withPorts(List.of(proxyPort))));
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  private void restartRedis() throws IOException {
    redis = new RedisServer(dir.resolve("redis"), redisPort);
  }

  /**
   * A session whose shared link the server closed while it waited for nothing carries on; its next
   * command, a denied one, gets the server's refusal over a new link (it once found no connection
   * at all and closed the client).
   */
  @Test
  void aDeniedCommandAfterTheLinkWentIsRefusedNotTheClientClosed() throws Exception {
    try (var s = proxy()) {
      assertThat(call(s, "PING")).isEqualTo("+PONG");
      int before = connectionsToRedis(false);
      // Every client connection but the one asking: the proxy's link goes.
      redis.call("CLIENT", "KILL", "TYPE", "normal");
      await().atMost(Duration.ofSeconds(10)).until(() -> connectionsToRedis(false) < before);
      assertThat(call(s, "FLUSHALL")).startsWith("-ERR unknown command 'flushall (denied");
      assertThat(call(s, "PING")).isEqualTo("+PONG");
    }
  }

  /**
   * The cause of a proxy that did not serve again after Redis came back: a new client is admitted
   * by a probe connection ({@code PING}); when the server read that PING and died before answering,
   * the probe saw only the end of its input, and as it allows half-closure it stayed open and
   * waiting, so the loop's node waited on it for good and every later client with it. The server is
   * made to read the PING and hold it ({@code CLIENT PAUSE}), then killed.
   */
  @Test
  void aProbeTheServerClosedWithoutAnsweringHoldsUpNoLaterClient() throws Exception {
    try (var s = proxy()) {
      assertThat(call(s, "PING")).isEqualTo("+PONG");
    }
    int before = connectionsToRedis(false);
    assertThat(redis.call("CLIENT", "PAUSE", "60000", "ALL")).isEqualTo("OK");
    try (var held = proxy()) {
      // The probe for this client is connected and its PING read by Redis (nothing unread).
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> connectionsToRedis(true) > before && connectionsToRedis(false) > before);
      redis.kill();
      redis = null;
      assertThat(readLine(held.getInputStream())).startsWith("-ERR upstream unavailable");
    }
    restartRedis();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              try (var s = proxy()) {
                return call(s, "PING").equals("+PONG");
              }
            });
  }

  /**
   * Under a pipelined load of several clients, half of them on one connection throughout (made
   * again after a failure), half on a new connection per batch, Redis is killed and started again
   * on the same port: while it is away each command gets an error reply or a closed connection,
   * never silence or a wrong value; once it answers again, every client is served again.
   */
  @Test
  void underPipelinedLoadEveryClientIsServedAgainOnceRedisIsBack() throws Exception {
    var load = new PipelinedLoad(6, 16);
    try {
      load.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> load.allServedSince(0));
      redis.kill();
      redis = null;
      await().atMost(Duration.ofSeconds(30)).until(() -> load.failures.get() >= 6);
      restartRedis();
      long back = System.nanoTime();
      await().atMost(Duration.ofSeconds(30)).until(() -> load.allServedSince(back));
      System.out.printf(
          "redis recovery: every client served again %d ms after Redis was back; failures %s%n",
          (System.nanoTime() - back) / 1_000_000, load.kinds);
    } finally {
      load.stop();
    }
    assertThat(load.kinds.keySet()).isSubsetOf("error reply", "closed").isNotEmpty();
  }

  /** Clients sending {@code batch} SET/GET pairs at once, each checking its replies. */
  private final class PipelinedLoad {
    final int clients;
    final int batch;
    final List<Thread> threads = new ArrayList<>();
    final AtomicLong[] lastServed;
    final AtomicLong failures = new AtomicLong();
    final ConcurrentHashMap<String, AtomicLong> kinds = new ConcurrentHashMap<>();
    volatile boolean running = true;

    PipelinedLoad(int clients, int batch) {
      this.clients = clients;
      this.batch = batch;
      lastServed = new AtomicLong[clients];
      for (int i = 0; i < clients; i++) {
        lastServed[i] = new AtomicLong();
      }
    }

    void start() {
      for (int i = 0; i < clients; i++) {
        int id = i;
        threads.add(Thread.ofPlatform().daemon().start(() -> run(id, id % 2 == 0)));
      }
    }

    boolean allServedSince(long t) {
      for (var l : lastServed) {
        if (l.get() <= t) {
          return false;
        }
      }
      return true;
    }

    void stop() throws InterruptedException {
      running = false;
      for (var t : threads) {
        t.join(15_000);
        assertThat(t.isAlive()).as("a client still waiting for its replies").isFalse();
      }
    }

    private void fail(String kind) {
      failures.incrementAndGet();
      kinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    private void run(int id, boolean keep) {
      Socket s = null;
      for (long n = 0; running; n++) {
        try {
          if (s == null) {
            s = proxy();
          }
          var out = new StringBuilder();
          for (int i = 0; i < batch; i++) {
            var key = "r:" + id + ":" + i;
            out.append(resp("SET", key, n + "-" + i)).append(resp("GET", key));
          }
          s.getOutputStream().write(out.toString().getBytes(StandardCharsets.UTF_8));
          var in = s.getInputStream();
          boolean good = true;
          for (int i = 0; i < batch && good; i++) {
            var set = readLine(in);
            var get = readLine(in);
            var value = n + "-" + i;
            if (set.startsWith("-") || get.startsWith("-")) {
              fail("error reply");
              good = false;
            } else if (!set.equals("+OK")
                || !get.equals("$" + value.length())
                || !readLine(in).equals(value)) {
              fail("wrong reply");
              good = false;
            }
          }
          if (good) {
            lastServed[id].set(System.nanoTime());
          } else {
            s.close();
            s = null;
          }
        } catch (java.net.SocketTimeoutException e) {
          fail("timeout");
          s = closeQuietly(s);
        } catch (IOException e) {
          fail("closed");
          s = closeQuietly(s);
        }
        if (!keep) {
          s = closeQuietly(s);
        }
      }
      closeQuietly(s);
    }
  }

  private Socket proxy() throws IOException {
    var s = new Socket("127.0.0.1", proxyPort);
    s.setSoTimeout(10_000);
    return s;
  }

  private static Socket closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    return null;
  }

  /** The RESP array of {@code args}, as a client library sends it. */
  static String resp(String... args) {
    var b = new StringBuilder("*").append(args.length).append("\r\n");
    for (var a : args) {
      b.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
    }
    return b.toString();
  }

  private static String call(Socket s, String... args) throws IOException {
    s.getOutputStream().write(resp(args).getBytes(StandardCharsets.UTF_8));
    return readLine(s.getInputStream());
  }

  private static String readLine(InputStream in) throws IOException {
    var b = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  /**
   * The connections Redis has accepted on its port, from the kernel's table ({@code
   * /proc/net/tcp}); with {@code readAll}, only those where Redis has read every byte sent to it.
   */
  private int connectionsToRedis(boolean readAll) throws IOException {
    var port = String.format(":%04X", redisPort);
    int n = 0;
    for (var line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
      var f = line.trim().split("\\s+");
      // local address, remote address, state (01: established), tx_queue:rx_queue
      if (f.length > 4 && f[1].endsWith(port) && f[3].equals("01")) {
        if (!readAll || f[4].endsWith(":00000000")) {
          n++;
        }
      }
    }
    return n;
  }
}
