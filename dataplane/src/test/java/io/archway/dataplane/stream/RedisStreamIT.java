package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisServer;
import io.archway.dataplane.testing.Stalls;
import io.archway.dataplane.testing.UdpServer;
import io.archway.model.testing.Ports;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Redis proxy against a real redis-server: Lettuce and redis-cli through it, fault delays,
 * syslog lines for slow commands, metrics, and the bad inputs (malformed RESP, a huge bulk length,
 * an upstream that is down, then up).
 */
class RedisStreamIT {

  @TempDir static Path dir;
  static RedisServer redis;
  static UdpServer syslog;
  static List<String> lines = new CopyOnWriteArrayList<>();
  static Gateways gw;
  static int redisPort;
  static int tcpPort;
  static int downPort;
  static int deadNode;
  static int ownPort;
  static RedisClient lettuce;

  @BeforeAll
  static void start() throws Exception {
    redis = new RedisServer(dir);
    syslog = UdpServer.collecting(lines);
    redisPort = Ports.free();
    tcpPort = Ports.free();
    downPort = Ports.free();
    deadNode = Ports.free();
    ownPort = Ports.free();
    var yaml =
        """
        stream_routes:
          - id: redis
            server_port: %d
            upstream:
              nodes: {"%s": 1}
            protocol:
              name: redis
              conf:
                faults:
                  - {commands: [get], key: "slow:*", delay: 0.3}
              logger:
                - name: syslog
                  filter: [["rpc_time", ">=", 0.2]]
                  conf: {host: 127.0.0.1, port: %d, sock_type: udp, batch_max_size: 1}
          - id: tcp
            server_port: %d
            upstream:
              nodes: {"%s": 1}
          - id: down
            server_port: %d
            upstream:
              retries: 0
              nodes: {"127.0.0.1:%d": 1}
            protocol: {name: redis}
          - id: own
            server_port: %d
            upstream:
              nodes: {"%s": 1}
            protocol: {name: redis, conf: {multiplex: false}}
        """
            .formatted(
                redisPort,
                redis.node(),
                syslog.port(),
                tcpPort,
                redis.node(),
                downPort,
                deadNode,
                ownPort,
                redis.node());
    gw =
        Gateways.start(
            dir,
            yaml,
            StreamSettings.DEFAULTS.withPorts(List.of(redisPort, tcpPort, downPort, ownPort)));
    lettuce = RedisClient.create("redis://127.0.0.1:" + redisPort);
  }

  @AfterAll
  static void stop() {
    if (lettuce != null) {
      lettuce.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (gw != null) {
      gw.close();
    }
    syslog.close();
    redis.close();
  }

  @Test
  void lettuceSyncAsyncPipelinedAndTransactions() throws Exception {
    try (StatefulRedisConnection<String, String> c = lettuce.connect()) {
      var sync = c.sync();
      assertThat(sync.set("hello", "world")).isEqualTo("OK");
      assertThat(sync.get("hello")).isEqualTo("world");
      assertThat(sync.get("missing")).isNull();

      // 1,000 commands pipelined: every reply comes back, in order.
      c.setAutoFlushCommands(false);
      var async = c.async();
      var futures = new ArrayList<RedisFuture<?>>();
      for (int i = 0; i < 500; i++) {
        futures.add(async.set("k" + i, "v" + i));
        futures.add(async.get("k" + i));
      }
      c.flushCommands();
      assertThat(
              LettuceFutures.awaitAll(10, TimeUnit.SECONDS, futures.toArray(new RedisFuture<?>[0])))
          .isTrue();
      for (int i = 0; i < 500; i++) {
        assertThat(futures.get(2 * i + 1).get()).isEqualTo("v" + i);
      }
      c.setAutoFlushCommands(true);

      sync.multi();
      sync.incr("counter");
      sync.incr("counter");
      var exec = sync.exec();
      assertThat(exec.wasDiscarded()).isFalse();
      assertThat((Long) exec.get(1)).isEqualTo((Long) exec.get(0) + 1);
    }
    var metrics = gw.status("/metrics");
    assertThat(metrics)
        .contains("archway_redis_command_duration_seconds_count{route=\"redis\",cmd=\"get\"}")
        .contains("archway_stream_connections_total{route=\"redis\"}");
  }

  @Test
  void respThreeAndPubSubPassThrough() throws Exception {
    try (var sub = lettuce.connectPubSub();
        var pub = lettuce.connect()) {
      var got = new CopyOnWriteArrayList<String>();
      sub.addListener(
          new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
              got.add(channel + "=" + message);
            }
          });
      sub.sync().subscribe("news");
      // Lettuce 6 speaks RESP3 (HELLO 3) when the server can: pushes come through unchanged.
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                pub.sync().publish("news", "hi");
                return got.contains("news=hi");
              });
    }
  }

  @Test
  void aFaultDelaysMatchingCommandsOnlyAndHoldsUpNoOtherConnection() throws Exception {
    try (var a = lettuce.connect();
        var b = lettuce.connect()) {
      a.sync().set("slow:1", "x");
      a.sync().set("fast:1", "y");
      // A GET of another key, sent after one of slow:1, is answered while that one waits out
      // its delay: only matching commands are delayed.
      var slowFirst = b.async().get("slow:1");
      assertThat(a.sync().get("fast:1")).isEqualTo("y");
      assertThat(slowFirst.isDone()).isFalse();
      assertThat(slowFirst.get(5, TimeUnit.SECONDS)).isEqualTo("x");
      var slow = a.async().get("slow:1");
      // While connection a waits out its delay, connection b is served.
      assertThat(b.sync().ping()).isEqualTo("PONG");
      assertThat(slow.isDone()).isFalse();
      assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("x");
    }
    // The logger's filter (rpc_time >= 0.2) lets through the delayed GET only.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lines.stream().anyMatch(l -> l.contains("\"key\":\"slow:1\"")));
    // (Other tests' commands may be slow too on a busy machine: only this test's keys are checked.)
    assertThat(lines)
        .filteredOn(l -> l.contains("\"key\":\"slow:1\""))
        .allMatch(l -> l.startsWith("<14>1 ") && l.contains("\"cmd\":\"get\""));
    assertThat(lines).noneMatch(l -> l.contains("fast:1"));
  }

  @Test
  void redisCliWorksThroughTheProxy() throws Exception {
    var p =
        new ProcessBuilder("redis-cli", "-p", Integer.toString(redisPort), "set", "cli", "ok")
            .redirectErrorStream(true)
            .start();
    assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip())
        .isEqualTo("OK");
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aPipelineReadAtOnceGoesOnWholeAroundADelayedCommandAndAPartialOne() throws Exception {
    // Side-by-side commands of one read go to the shared link as one slice: the delayed GET
    // splits the run, and the command cut across two writes joins none.
    try (var s = socket(redisPort)) {
      var end = RedisRecoveryIT.resp("ECHO", "end");
      send(
          s,
          RedisRecoveryIT.resp("SET", "run:a", "1")
              + RedisRecoveryIT.resp("GET", "slow:run")
              + RedisRecoveryIT.resp("INCR", "run:a")
              + RedisRecoveryIT.resp("GET", "run:a")
              + end.substring(0, 7));
      send(s, end.substring(7));
      expect(s, "+OK\r\n$-1\r\n:2\r\n$1\r\n2\r\n$3\r\nend\r\n");
    }
  }

  @Test
  void malformedRespGetsAProtocolErrorAndOnlyThatConnectionCloses() throws Exception {
    try (var other = lettuce.connect();
        var s = socket(redisPort)) {
      s.getOutputStream().write("*1\r\n+x\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readAll(s.getInputStream()))
          .isEqualTo("-ERR Protocol error: expected '$', got '+'\r\n");
      assertThat(other.sync().ping()).isEqualTo("PONG");
    }
    try (var s = socket(redisPort)) {
      s.getOutputStream()
          .write(
              "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$99999999999\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readAll(s.getInputStream()))
          .isEqualTo("-ERR Protocol error: invalid bulk length\r\n");
    }
    assertThat(gw.dataplane().servers().streamMetrics().errors("bad_resp")).isEqualTo(2);
  }

  @Test
  void anUpstreamThatIsDownGetsAnErrorReplyAndTheNextConnectionTriesAgain() throws Exception {
    try (var s = socket(downPort)) {
      assertThat(readAll(s.getInputStream())).startsWith("-ERR upstream unavailable");
    }
    var late = new RedisServer(dir, deadNode);
    try (var s = socket(downPort)) {
      assertThat(late.port()).isEqualTo(deadNode);
      send(s, "PING\r\n");
      expect(s, "+PONG\r\n");
      // The server goes away: its shared connection closes; this client had nothing in flight, so
      // it is told only when it sends a command (whether the proxy has seen the close by then or
      // not), then closed.
      late.close();
      send(s, "PING\r\n");
      assertThat(readAll(s.getInputStream())).startsWith("-ERR upstream ");
    }
  }

  @Test
  void clientsShareServerConnectionsAndEachGetsItsOwnRepliesInOrder() throws Exception {
    int n = 20;
    var sockets = new ArrayList<Socket>();
    try {
      for (int i = 0; i < n; i++) {
        sockets.add(socket(redisPort));
      }
      for (int round = 0; round < 50; round++) {
        for (int i = 0; i < n; i++) {
          send(sockets.get(i), "SET m:" + i + " " + (round * n + i) + "\r\nGET m:" + i + "\r\n");
        }
        for (int i = 0; i < n; i++) {
          var v = Integer.toString(round * n + i);
          expect(sockets.get(i), "+OK\r\n$" + v.length() + "\r\n" + v + "\r\n");
        }
      }
      // Redis sees the gateway's shared connections (one per event loop), not one per client.
      assertThat(streamMetrics().upstreams(true)).isPositive();
      assertThat(serverClients()).isLessThan(n);
      assertThat(gw.status("/metrics"))
          .contains("archway_redis_upstream_connections{kind=\"shared\"}");
    } finally {
      for (var s : sockets) {
        s.close();
      }
    }
  }

  @Test
  void aTransactionMovesItsClientToAConnectionOfItsOwnAfterTheRepliesBeforeIt() throws Exception {
    long own = streamMetrics().upstreams(false);
    try (var s = socket(redisPort)) {
      send(s, "SET tx 1\r\nGET tx\r\nMULTI\r\nINCR tx\r\nEXEC\r\nGET tx\r\n");
      expect(s, "+OK\r\n$1\r\n1\r\n+OK\r\n+QUEUED\r\n*1\r\n:2\r\n$1\r\n2\r\n");
      assertThat(streamMetrics().upstreams(false)).isEqualTo(own + 1);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> streamMetrics().upstreams(false) == own);
  }

  @Test
  void selectAndBlockingCommandsKeepTheirMeaningWhileOthersShare() throws Exception {
    try (var db1 = socket(redisPort);
        var shared = socket(redisPort);
        var blocked = socket(redisPort)) {
      send(db1, "SELECT 1\r\nSET where one\r\n");
      expect(db1, "+OK\r\n+OK\r\n");
      send(shared, "DEL where\r\nGET where\r\n");
      expect(shared, ":0\r\n$-1\r\n");
      send(blocked, "BLPOP queue:b 10\r\n");
      send(shared, "PING\r\n");
      expect(shared, "+PONG\r\n");
      send(shared, "RPUSH queue:b job\r\n");
      expect(shared, ":1\r\n");
      expect(blocked, "*2\r\n$7\r\nqueue:b\r\n$3\r\njob\r\n");
      send(db1, "GET where\r\n");
      expect(db1, "$3\r\none\r\n");
    }
  }

  @Test
  void aClientThatDoesNotReadStopsBeingReadWhileOthersAreServed() throws Exception {
    try (var s = socket(redisPort)) {
      send(s, "SET big " + "x".repeat(16 * 1024) + "\r\n");
      expect(s, "+OK\r\n");
    }
    try (var slow = socket(redisPort);
        var other = socket(redisPort)) {
      var get = "GET big\r\n".getBytes(StandardCharsets.US_ASCII);
      int total = 2_000_000; // 18 MB of commands asking for 32 GB of replies
      var out = slow.getOutputStream();
      var writer = Stalls.flood(total, () -> out.write(get));
      // The gateway stops reading the slow client (at most 1,024 commands unanswered, and none
      // while its replies back up): the writer blocks far short of its 2,000,000 commands.
      Stalls.awaitStalled(writer);
      assertThat(writer.count()).isLessThan(total);
      send(other, "PING\r\n");
      expect(other, "+PONG\r\n");
      slow.close();
      writer.join();
    }
  }

  @Test
  void withoutMultiplexingEachClientHasAServerConnectionOfItsOwn() throws Exception {
    long own = streamMetrics().upstreams(false);
    try (var a = socket(ownPort);
        var b = socket(ownPort)) {
      send(a, "PING\r\n");
      send(b, "PING\r\n");
      expect(a, "+PONG\r\n");
      expect(b, "+PONG\r\n");
      assertThat(streamMetrics().upstreams(false)).isEqualTo(own + 2);
    }
  }

  static StreamMetrics streamMetrics() {
    return gw.dataplane().servers().streamMetrics();
  }

  /** The clients Redis itself has now. */
  static int serverClients() throws Exception {
    try (var s = socket(redis.port())) {
      send(s, "INFO clients\r\n");
      var in = s.getInputStream();
      var header = new StringBuilder();
      int c;
      while ((c = in.read()) != '\n') {
        header.append((char) c);
      }
      int length = Integer.parseInt(header.toString().strip().substring(1));
      var info = new String(in.readNBytes(length), StandardCharsets.US_ASCII);
      var m = java.util.regex.Pattern.compile("connected_clients:(\\d+)").matcher(info);
      assertThat(m.find()).isTrue();
      return Integer.parseInt(m.group(1));
    }
  }

  static void send(Socket s, String text) throws Exception {
    s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
  }

  static void expect(Socket s, String reply) throws Exception {
    var got = s.getInputStream().readNBytes(reply.length());
    assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo(reply);
  }

  @Test
  void aRedisClientThatHalfClosesStillGetsItsReplies() throws Exception {
    try (var s = socket(redisPort)) {
      s.getOutputStream().write("PING\r\nECHO hi\r\n".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
      assertThat(readAll(s.getInputStream())).isEqualTo("+PONG\r\n$2\r\nhi\r\n");
    }
  }

  @Test
  void plainTcpRelaysBothWaysAndPassesHalfCloseOn() throws Exception {
    try (var s = socket(tcpPort)) {
      s.getOutputStream().write("PING\r\nECHO hi\r\n".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
      // Redis answers both, then closes on our half-close; the proxy passes each step on.
      assertThat(readAll(s.getInputStream())).isEqualTo("+PONG\r\n$2\r\nhi\r\n");
    }
  }

  static Socket socket(int port) throws Exception {
    var s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    return s;
  }

  static String readAll(InputStream in) throws Exception {
    var out = new StringBuilder();
    var buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
      }
    } catch (SocketTimeoutException e) {
      // what came is returned
    }
    return out.toString();
  }
}
