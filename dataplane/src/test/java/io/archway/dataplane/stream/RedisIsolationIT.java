package io.archway.dataplane.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.RedisServer;
import io.archway.model.testing.Ports;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Redis proxy's isolation between clients (issue 20, part 5), against real redis-servers: each
 * test is a finding that reproduced before the fix. The differential test sends the same bytes to
 * Redis directly, through a shared route ({@code multiplex: true}) and through a route with a
 * connection per client, and asserts the same bytes come back.
 */
class RedisIsolationIT {

  @TempDir static Path dir;
  static RedisServer redis;
  static RedisServer authRedis;
  static Gateways gw;
  static int shared;
  static int own;
  static int authShared;
  static int authOwn;
  static int limited;
  static RedisServer locked; // requires a password from the start
  static int lockedShared;
  static int lockedOwn;

  @BeforeAll
  static void start() throws Exception {
    redis = new RedisServer(dir);
    authRedis = new RedisServer(dir);
    shared = Ports.free();
    own = Ports.free();
    authShared = Ports.free();
    authOwn = Ports.free();
    limited = Ports.free();
    locked = new RedisServer(dir, Ports.free(), "--requirepass", "locked-pw");
    lockedShared = Ports.free();
    lockedOwn = Ports.free();
    var yaml =
        """
        stream_routes:
          - id: shared
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol: {name: redis, conf: {deny_commands: [flushall, FlushDB]}}
          - id: own
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol: {name: redis, conf: {multiplex: false, deny_commands: [flushall, flushdb]}}
          - id: auth-shared
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol: {name: redis}
          - id: auth-own
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol: {name: redis, conf: {multiplex: false}}
          - id: limited
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol:
              name: redis
              conf: {output_buffer: {hard: 1mb, soft: 512kb, soft_seconds: 5}}
          - id: locked-shared
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol: {name: redis}
          - id: locked-own
            server_port: %d
            upstream: {nodes: {"%s": 1}}
            protocol: {name: redis, conf: {multiplex: false}}
        """
            .formatted(
                shared,
                redis.node(),
                own,
                redis.node(),
                authShared,
                authRedis.node(),
                authOwn,
                authRedis.node(),
                limited,
                redis.node(),
                lockedShared,
                locked.node(),
                lockedOwn,
                locked.node());
    // One event loop: clients on different loops are no more ordered than clients on different
    // connections to Redis, and the ordering test is about one loop's shared link.
    gw =
        Gateways.start(
            dir,
            yaml,
            o ->
                o.withWorkers(1)
                    .withStream(
                        StreamSettings.DEFAULTS.withPorts(
                            List.of(
                                shared,
                                own,
                                authShared,
                                authOwn,
                                limited,
                                lockedShared,
                                lockedOwn))));
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    redis.close();
    authRedis.close();
    locked.close();
  }

  // --- The same bytes, direct and through the proxy (shared and own connections).

  static Stream<String> conversations() {
    return Stream.of(
        // Inline commands ended by a bare \n (redis-cli --pipe), and Redis's own splitting.
        "SET iso:k v\nGET iso:k\n",
        "ECHO \"a b\" 'c\\'d'\r\nECHO \"\\x41\\n\"\r\n  \r\n\r\n*0\r\nPING\r\n",
        // Protocol errors: the replies before them come first, then Redis's own error text.
        "PING\r\nECHO before\r\n*1\r\n+x\r\n",
        "ECHO a\r\nSET \"a b\r\n",
        "PING\r\n*01\r\n$4\r\nPING\r\n",
        "PING\r\n*1\r\n$-1\r\n",
        "PING\r\n*1\r\n$04\r\nPING\r\n",
        "PING\r\n*1\r\n$" + "1".repeat(40) + "\r\n",
        // Bytes Redis skips unseen.
        "*1\r\n$4\r\nPINGxx*1\rX$4\rYPING\r\n",
        // Several replies to one command.
        "UNSUBSCRIBE a b c\r\nPUNSUBSCRIBE x y\r\nSUNSUBSCRIBE s t\r\nPING\r\n",
        "SUBSCRIBE iso:c\r\nPING\r\nUNSUBSCRIBE\r\nPING\r\n",
        // Connection state.
        "SELECT 1\r\nSET iso:db one\r\nSELECT 0\r\nDEL iso:db\r\nGET iso:db\r\nSELECT 1\r\nGET iso:db\r\n",
        "MULTI\r\nSET iso:t 1\r\nNOSUCHCOMMAND\r\nEXEC\r\nGET iso:t\r\n",
        "WATCH iso:w\r\nMULTI\r\nGET iso:w\r\nEXEC\r\nCLIENT GETNAME\r\n",
        "BLPOP iso:nothing 0.05\r\nEVAL \"return 1\" 0\r\nPING\r\n",
        "CLIENT SETNAME mine\r\nCLIENT GETNAME\r\n",
        // Authentication on a server without a password.
        "AUTH nopass\r\nAUTH default nopass\r\nPING\r\n",
        // Scripting and functions.
        "EVAL \"return redis.call('set', KEYS[1], ARGV[1])\" 1 iso:ev 5\r\nGET iso:ev\r\n"
            + "EVAL \"return redis.error_reply('boom')\" 0\r\nSCRIPT EXISTS 0000\r\n"
            + "FCALL nosuch 0\r\nEVALSHA 0000 0\r\n",
        // Transactions.
        "MULTI\r\nINCR iso:m\r\nDISCARD\r\nEXEC\r\n",
        "WATCH iso:w2\r\nSET iso:w2 1\r\nMULTI\r\nGET iso:w2\r\nEXEC\r\n",
        "MULTI\r\nMULTI\r\nEXEC\r\n",
        // Blocking commands that time out.
        "BRPOPLPUSH iso:none iso:dst 0.05\r\nBLMOVE iso:none iso:dst LEFT RIGHT 0.05\r\n"
            + "XREAD BLOCK 50 STREAMS iso:nostream 0\r\nBZPOPMIN iso:nozset 0.05\r\n",
        // Pub/sub.
        "SUBSCRIBE iso:a iso:b\r\nPSUBSCRIBE iso:p*\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nPING\r\n",
        "PUBLISH iso:nobody hi\r\n",
        // Replies switched off: fewer replies than commands.
        "CLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\nPING\r\n",
        // HTTP sent to Redis: closed at once, without a reply.
        "GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        "POST /x HTTP/1.1\r\n",
        "PING\r\nQUIT\r\nPING\r\n");
  }

  @ParameterizedTest
  @MethodSource("conversations")
  void theProxyAnswersAsRedisDoes(String bytes) throws Exception {
    var direct = converse(redis.port(), bytes);
    assertThat(converse(shared, bytes)).as("shared").isEqualTo(direct);
    assertThat(converse(own, bytes)).as("own connection").isEqualTo(direct);
  }

  @Test
  void redisCliPipeWithInlineCommandsEndedByNewlines() throws Exception {
    for (int port : new int[] {shared, own}) {
      var p =
          new ProcessBuilder("redis-cli", "-p", Integer.toString(port), "--pipe")
              .redirectErrorStream(true)
              .start();
      try (var in = p.getOutputStream()) {
        in.write("SET pipe:a 1\nINCR pipe:a\nGET pipe:a\n".getBytes(StandardCharsets.US_ASCII));
      }
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(out).contains("errors: 0, replies: 3");
    }
  }

  /** Sends {@code bytes} then QUIT; everything until the connection closes. */
  static String converse(int port, String bytes) throws Exception {
    try (var s = socket(port)) {
      send(s, bytes + "QUIT\r\n");
      return readAll(s.getInputStream());
    }
  }

  // --- A server that requires a password from the start: the same bytes, direct and proxied.

  static Stream<String> lockedConversations() {
    return Stream.of(
        "PING\r\nGET x\r\nAUTH wrong\r\nAUTH default wrong\r\nAUTH locked-pw\r\nPING\r\n",
        "HELLO 3\r\nSELECT 1\r\nMULTI\r\nSUBSCRIBE c\r\nEVAL \"return 1\" 0\r\n",
        "PING\r\n*11\r\n" + "$1\r\na\r\n".repeat(11),
        "PING\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + "x".repeat(20000) + "\r\n",
        "AUTH locked-pw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + "x".repeat(20000) + "\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  }

  @ParameterizedTest
  @MethodSource("lockedConversations")
  void aServerWithAPasswordAnswersTheProxyAsItAnswersDirectly(String bytes) throws Exception {
    var direct = converse(locked.port(), bytes);
    assertThat(converse(lockedShared, bytes)).as("shared").isEqualTo(direct);
    assertThat(converse(lockedOwn, bytes)).as("own connection").isEqualTo(direct);
  }

  // --- Authentication is per client.

  @Test
  void aClientThatNeverAuthenticatedGetsNoauthAfterRequirepassIsSet() throws Exception {
    for (int port : new int[] {authShared, authOwn}) {
      try (var old = socket(port);
          var admin = socket(authRedis.port())) {
        send(old, "SET auth:before 1\r\n");
        expect(old, "+OK\r\n"); // the shared link is open, authenticated as the default user
        send(admin, "CONFIG SET requirepass s3cret\r\n");
        expect(admin, "+OK\r\n");
        try {
          // A client that connects now never authenticated: Redis says so, and nothing runs.
          try (var fresh = socket(port)) {
            send(fresh, "SET pwned 1\r\nGET pwned\r\n");
            expect(fresh, NOAUTH + NOAUTH);
            // Errors before AUTH reach the client, then AUTH works.
            send(fresh, "AUTH wrong\r\n");
            expect(fresh, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
            send(fresh, "AUTH s3cret\r\nGET pwned\r\n");
            expect(fresh, "+OK\r\n$-1\r\n");
            // Redis's limits for unauthenticated clients close that client only.
          }
          try (var fresh = socket(port)) {
            send(fresh, "*20\r\n" + "$1\r\na\r\n".repeat(20));
            assertThat(readAll(fresh.getInputStream()))
                .isEqualTo("-ERR Protocol error: unauthenticated multibulk length\r\n");
          }
          // A client connected before, as a direct one would, is still authenticated.
          send(old, "GET auth:before\r\n");
          expect(old, "$1\r\n1\r\n");
        } finally {
          send(admin, "AUTH s3cret\r\nCONFIG SET requirepass \"\"\r\n");
          expect(admin, "+OK\r\n+OK\r\n");
        }
        // Without a password again, a new client shares.
        try (var after = socket(port)) {
          send(after, "GET auth:before\r\n");
          expect(after, "$1\r\n1\r\n");
        }
      }
    }
  }

  static final String NOAUTH = "-NOAUTH Authentication required.\r\n";

  @Test
  void aLinkReplacedAfterAPasswordWasSetIsNotUsedWithoutAuth() throws Exception {
    try (var idle = socket(authShared);
        var admin = socket(authRedis.port())) {
      send(idle, "PING\r\n");
      expect(idle, "+PONG\r\n");
      send(admin, "CONFIG SET requirepass pw3\r\nAUTH pw3\r\n");
      expect(admin, "+OK\r\n+OK\r\n");
      try {
        long links = streamMetrics().upstreams(true);
        var ids = sharedLinkIds(authRedis.port(), "pw3");
        assertThat(ids).isNotEmpty();
        for (var id : ids) {
          send(admin, "CLIENT KILL ID " + id + "\r\n");
          expect(admin, ":1\r\n");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> streamMetrics().upstreams(true) < links);
        // The new link would run commands unauthenticated no more than a new connection would.
        send(idle, "SET auth:relinked 1\r\n");
        expect(idle, NOAUTH);
        send(idle, "AUTH pw3\r\nSET auth:relinked 1\r\n");
        expect(idle, "+OK\r\n+OK\r\n");
      } finally {
        send(admin, "CONFIG SET requirepass \"\"\r\n");
        expect(admin, "+OK\r\n");
      }
    }
  }

  @Test
  void lettuceWithoutThePasswordIsRefusedAndWithItWorksNeitherHangs() throws Exception {
    try (var admin = socket(authRedis.port())) {
      send(admin, "CONFIG SET requirepass lettuce-pw\r\n");
      expect(admin, "+OK\r\n");
      try {
        for (int port : new int[] {authShared, authOwn}) {
          var client = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + port);
          client.setDefaultTimeout(Duration.ofSeconds(5));
          try {
            assertThatThrownBy(() -> client.connect().sync().set("x", "1"))
                .hasStackTraceContaining("NOAUTH");
            var withPassword =
                io.lettuce.core.RedisClient.create("redis://lettuce-pw@127.0.0.1:" + port);
            try (var c = withPassword.connect()) {
              assertThat(c.sync().set("lettuce:auth", "1")).isEqualTo("OK");
            } finally {
              withPassword.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
          } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
          }
        }
      } finally {
        send(admin, "AUTH lettuce-pw\r\nCONFIG SET requirepass \"\"\r\n");
        expect(admin, "+OK\r\n+OK\r\n");
      }
    }
  }

  @Test
  void requirepassSetThroughTheProxyAppliesToTheNextClient() throws Exception {
    try (var admin = socket(authShared)) {
      send(admin, "CONFIG SET requirepass pw2\r\n");
      expect(admin, "+OK\r\n");
      try (var fresh = socket(authShared)) {
        send(fresh, "CONFIG SET requirepass \"\"\r\n");
        expect(fresh, NOAUTH);
      } finally {
        send(admin, "CONFIG SET requirepass \"\"\r\n");
        expect(admin, "+OK\r\n");
      }
    }
  }

  // --- Commands that make Redis close the connection never reach a shared link.

  @Test
  void anHttpRequestClosesItsClientOnlyAndTheSharedLinksStay() throws Exception {
    var names = sharedLinkNames();
    try (var other = socket(shared)) {
      send(other, "PING\r\n");
      expect(other, "+PONG\r\n");
      for (var attack : List.of("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST / HTTP/1.1\r\n")) {
        try (var attacker = socket(shared)) {
          send(attacker, "SET iso:a 1\r\n" + attack);
          readAll(attacker.getInputStream());
        }
        send(other, "PING\r\n");
        expect(other, "+PONG\r\n");
      }
      try (var quitter = socket(shared)) {
        send(quitter, "PING\r\nQUIT\r\nPING\r\n");
        assertThat(readAll(quitter.getInputStream())).isEqualTo("+PONG\r\n+OK\r\n");
      }
      send(other, "PING\r\n");
      expect(other, "+PONG\r\n");
    }
    assertThat(sharedLinkNames()).containsAll(names);
    assertThat(streamMetrics().errors("closing_command")).isGreaterThanOrEqualTo(2);
    assertThat(java.nio.file.Files.readString(dir.resolve("redis-" + redis.port() + ".log")))
        .doesNotContain("SECURITY ATTACK");
  }

  // --- Each client's output buffer is bounded.

  @Test
  void aClientThatNeverReadsIsDisconnectedAtItsOutputLimitAndOthersGoOn() throws Exception {
    try (var s = socket(limited)) {
      var big = "x".repeat(256 * 1024);
      send(s, "*3\r\n$3\r\nSET\r\n$7\r\niso:big\r\n$" + big.length() + "\r\n" + big + "\r\n");
      expect(s, "+OK\r\n");
    }
    long before = streamMetrics().errors("output_buffer_limit");
    var names = sharedLinkNames();
    try (var other = socket(limited);
        var hog = socket(limited)) {
      hog.setReceiveBufferSize(4096);
      send(other, "PING\r\n");
      expect(other, "+PONG\r\n");
      // 200 replies of 256 KiB (50 MiB) asked for, none read: the proxy holds at most 1 MiB.
      try {
        send(hog, "GET iso:big\r\n".repeat(200));
      } catch (java.net.SocketException e) {
        // disconnected while still writing: the limit was reached already
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> streamMetrics().errors("output_buffer_limit") > before);
      send(other, "PING\r\n");
      expect(other, "+PONG\r\n");
    }
    assertThat(sharedLinkNames()).containsAll(names);
  }

  // --- Scripts do not stall a shared link; SCRIPT KILL reaches the server.

  @Test
  void scriptKillIsNotQueuedBehindTheBusyScript() throws Exception {
    try (var admin = socket(redis.port())) {
      send(admin, "CONFIG SET busy-reply-threshold 100\r\n");
      expect(admin, "+OK\r\n");
    }
    try (var busy = socket(shared);
        var killer = socket(shared);
        var other = socket(shared)) {
      send(killer, "PING\r\n");
      expect(killer, "+PONG\r\n");
      send(busy, "EVAL \"while true do end\" 0\r\n");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                send(killer, "SCRIPT KILL\r\n");
                var line = line(killer);
                return line.equals("+OK");
              });
      assertThat(line(busy)).startsWith("-ERR").contains("killed");
      send(other, "PING\r\n");
      expect(other, "+PONG\r\n");
    } finally {
      try (var admin = socket(redis.port())) {
        send(admin, "CONFIG SET busy-reply-threshold 5000\r\n");
        expect(admin, "+OK\r\n");
      }
    }
  }

  // --- A move to a connection of its own is never overtaken.

  // Each round moves a reader off the link with a write sent right behind it. Before MoveFence
  // about one round in 2,000 lost that race at Redis (its epoll served the link first), so the test
  // runs enough rounds to see it now and then; 9,000 rounds in a row passed with the fence.
  @Test
  void aBlockingReadIsNeverOvertakenByAnotherClientsWrite() throws Exception {
    for (int i = 0; i < 500; i++) {
      try (var reader = socket(shared);
          var writer = socket(shared)) {
        reader.setSoTimeout(5000);
        send(reader, "PING\r\n");
        send(writer, "PING\r\n");
        expect(reader, "+PONG\r\n");
        expect(writer, "+PONG\r\n");
        var stream = "iso:s" + i;
        send(reader, "XREAD BLOCK 0 STREAMS " + stream + " $\r\n");
        send(writer, "XADD " + stream + " 1-1 f v\r\n");
        expect(writer, "$3\r\n1-1\r\n");
        assertThat(line(reader)).as("round %d", i).isEqualTo("*1");
      }
    }
  }

  @Test
  void movesThatFindNoSpareConnectionAreNotOvertakenEither() throws Exception {
    // More readers move at once than the proxy keeps spare connections (two): the later ones wait
    // for a connect, and the writes sent after their reads must still reach Redis after them.
    readersMoveAndAreNotOvertaken("iso:many:", () -> {});
  }

  @Test
  void movesWhileRedisIsBusyAreNotOvertaken() throws Exception {
    // While a script keeps Redis busy, the proxy's new connections are connected (the kernel has
    // them) but not yet accepted: a reader's command written on one at once reached Redis after the
    // writes the link sent later, which Redis read first, on a connection it already served.
    try (var busy = socket(redis.port())) {
      readersMoveAndAreNotOvertaken(
          "iso:busy:",
          () -> {
            send(
                busy,
                "EVAL \"local s = redis.call('TIME') while true do local t = redis.call('TIME')"
                    + " if (t[1] - s[1]) * 1000000 + t[2] - s[2] > 500000 then return 1 end end\""
                    + " 0\r\n");
            Thread.sleep(100); // so that the script runs as the readers move (it holds either way)
          });
      expect(busy, ":1\r\n");
    }
  }

  interface Step {
    void run() throws Exception;
  }

  /**
   * Six readers, more than the proxy's spare connections, send a blocking read each after {@code
   * first}; a writer then adds to each one's stream; every reader gets its entry.
   */
  private void readersMoveAndAreNotOvertaken(String prefix, Step first) throws Exception {
    int n = 6;
    var tag = prefix + System.nanoTime() + ":";
    var readers = new ArrayList<Socket>();
    try (var writer = socket(shared)) {
      for (int i = 0; i < n; i++) {
        var r = socket(shared);
        readers.add(r);
        r.setSoTimeout(5000);
        send(r, "PING\r\n");
        expect(r, "+PONG\r\n");
      }
      send(writer, "PING\r\n");
      expect(writer, "+PONG\r\n");
      first.run();
      for (int i = 0; i < n; i++) {
        send(readers.get(i), "XREAD BLOCK 0 STREAMS " + tag + i + " $\r\n");
      }
      for (int i = 0; i < n; i++) {
        send(writer, "XADD " + tag + i + " 1-1 f v\r\n");
      }
      for (int i = 0; i < n; i++) {
        expect(writer, "$3\r\n1-1\r\n");
      }
      for (int i = 0; i < n; i++) {
        assertThat(line(readers.get(i))).as("reader %d", i).isEqualTo("*1");
      }
    } finally {
      for (var r : readers) {
        r.close();
      }
    }
  }

  // --- CLIENT PAUSE: each paused client waits on a connection of its own, as Redis counts them.

  @Test
  void clientsPausedByClientPauseAreEachBlockedOnTheirOwn() throws Exception {
    var clients = new ArrayList<Socket>();
    try (var admin = socket(shared)) {
      for (int i = 0; i < 3; i++) {
        var s = socket(shared);
        clients.add(s);
        send(s, "PING\r\n");
        expect(s, "+PONG\r\n");
      }
      send(admin, "CLIENT PAUSE 5000 WRITE\r\n");
      expect(admin, "+OK\r\n");
      for (var s : clients) {
        send(s, "SET iso:paused 1\r\n");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> info("blocked_clients") == 3);
      send(admin, "CLIENT UNPAUSE\r\n");
      expect(admin, "+OK\r\n");
      for (var s : clients) {
        expect(s, "+OK\r\n");
      }
    } finally {
      for (var s : clients) {
        s.close();
      }
    }
  }

  static long info(String field) throws Exception {
    try (var s = socket(redis.port())) {
      send(s, "INFO clients\r\n");
      int length = Integer.parseInt(line(s).substring(1));
      var body = new String(s.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
      var m = Pattern.compile(field + ":(\\d+)").matcher(body);
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
  }

  // --- The proxy's links have names.

  @Test
  void sharedLinksAreNamedInClientList() throws Exception {
    try (var s = socket(shared)) {
      send(s, "PING\r\n");
      expect(s, "+PONG\r\n");
      assertThat(sharedLinkNames()).isNotEmpty().allMatch(n -> n.startsWith("archway-shared-"));
      send(s, "CLIENT GETNAME\r\n");
      expect(s, "$-1\r\n"); // the client's own connection carries no name of the proxy's
    }
  }

  // --- Denied commands.

  @Test
  void deniedCommandsGetAnErrorAndFailTheirTransaction() throws Exception {
    for (int port : new int[] {shared, own}) {
      try (var s = socket(port)) {
        send(s, "SET iso:keep 1\r\nFLUSHALL\r\nflushdb\r\nGET iso:keep\r\n");
        expect(s, "+OK\r\n");
        assertThat(line(s)).startsWith("-ERR unknown command 'flushall (denied by the proxy)'");
        assertThat(line(s)).startsWith("-ERR unknown command 'flushdb (denied by the proxy)'");
        expect(s, "$1\r\n1\r\n");
        send(s, "MULTI\r\nDEL iso:keep\r\nFLUSHALL\r\nEXEC\r\nGET iso:keep\r\n");
        expect(s, "+OK\r\n+QUEUED\r\n");
        assertThat(line(s)).startsWith("-ERR unknown command 'flushall");
        assertThat(line(s)).startsWith("-EXECABORT");
        expect(s, "$1\r\n1\r\n");
      }
    }
  }

  // --- Who pays for a broken link.

  @Test
  void aLostLinkFailsOnlyTheClientsWithCommandsInFlight() throws Exception {
    var idle = new ArrayList<Socket>();
    try (var busy = socket(shared);
        var sleeper = socket(redis.port());
        var probe = socket(redis.port())) {
      for (int i = 0; i < 4; i++) {
        var s = socket(shared);
        idle.add(s);
        send(s, "PING\r\n");
        expect(s, "+PONG\r\n");
      }
      send(busy, "PING\r\n");
      expect(busy, "+PONG\r\n");
      var kills = new StringBuilder("DEBUG SLEEP 0.5\r\n");
      for (var id : sharedLinkIds()) {
        kills.append("CLIENT KILL ID ").append(id).append("\r\n");
      }
      send(sleeper, kills.toString());
      // Redis is asleep once it no longer answers a PING.
      probe.setSoTimeout(100);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                send(probe, "PING\r\n");
                try {
                  line(probe);
                  return false;
                } catch (SocketTimeoutException e) {
                  return true;
                }
              });
      send(busy, "PING\r\n"); // in flight on a link Redis kills before reading it
      assertThat(readAll(busy.getInputStream())).isEqualTo("-ERR upstream connection lost\r\n");
      for (var s : idle) {
        send(s, "PING\r\n");
        expect(s, "+PONG\r\n");
      }
    } finally {
      for (var s : idle) {
        s.close();
      }
    }
  }

  // --- Helpers.

  static StreamMetrics streamMetrics() {
    return gw.dataplane().servers().streamMetrics();
  }

  static List<String> clientList() throws Exception {
    return clientList(redis.port(), null);
  }

  static List<String> clientList(int port, String password) throws Exception {
    try (var s = socket(port)) {
      if (password != null) {
        send(s, "AUTH " + password + "\r\n");
        expect(s, "+OK\r\n");
      }
      send(s, "CLIENT LIST\r\n");
      var header = line(s);
      int length = Integer.parseInt(header.substring(1));
      var body = new String(s.getInputStream().readNBytes(length + 2), StandardCharsets.UTF_8);
      return body.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  static List<String> sharedLinkNames() throws Exception {
    var names = new ArrayList<String>();
    var m = Pattern.compile(" name=(archway-shared-\\d+) ");
    for (var l : clientList()) {
      var x = m.matcher(l);
      if (x.find()) {
        names.add(x.group(1));
      }
    }
    return names;
  }

  static List<String> sharedLinkIds() throws Exception {
    return sharedLinkIds(redis.port(), null);
  }

  static List<String> sharedLinkIds(int port, String password) throws Exception {
    var ids = new ArrayList<String>();
    for (var l : clientList(port, password)) {
      if (l.contains(" name=archway-shared-")) {
        var x = Pattern.compile("^id=(\\d+) ").matcher(l);
        if (x.find()) {
          ids.add(x.group(1));
        }
      }
    }
    return ids;
  }

  static Socket socket(int port) throws Exception {
    var s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    return s;
  }

  static void send(Socket s, String text) throws Exception {
    s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
  }

  static void expect(Socket s, String reply) throws Exception {
    var got = s.getInputStream().readNBytes(reply.getBytes(StandardCharsets.UTF_8).length);
    assertThat(new String(got, StandardCharsets.UTF_8)).isEqualTo(reply);
  }

  /** One line, without its CRLF. */
  static String line(Socket s) throws Exception {
    var in = s.getInputStream();
    var out = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      out.append((char) c);
    }
    return out.toString().strip();
  }

  static String readAll(InputStream in) throws Exception {
    var out = new StringBuilder();
    var buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // what came is returned
    }
    return out.toString();
  }
}
