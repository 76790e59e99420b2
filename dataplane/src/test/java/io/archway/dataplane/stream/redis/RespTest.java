package io.archway.dataplane.stream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.config.RedisFaults;
import io.archway.dataplane.config.RedisProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RespTest {

  static ByteBuf buf(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  /** Feeds {@code bytes} in pieces of {@code step} bytes; returns the commands decoded. */
  static List<RedisCommand> decode(String bytes, int step, long maxBulk) {
    var ch = new EmbeddedChannel(new RespCommandDecoder(maxBulk));
    var raw = bytes.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < raw.length; i += step) {
      ch.writeInbound(Unpooled.wrappedBuffer(raw, i, Math.min(step, raw.length - i)));
    }
    var out = new ArrayList<RedisCommand>();
    RedisCommand c;
    while ((c = ch.readInbound()) != null) {
      out.add(c);
    }
    ch.finishAndReleaseAll();
    return out;
  }

  @Test
  void commandsKeepTheirBytesNameAndKeyWhateverTheSplit() {
    var pipeline =
        "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n"
            + "*2\r\n$3\r\nget\r\n$5\r\nhello\r\n"
            + "PING\r\n"
            + "*1\r\n$4\r\nQUIT\r\n";
    for (int step = 1; step <= pipeline.length(); step++) {
      var cmds = decode(pipeline, step, 512 << 20);
      assertThat(cmds).extracting(RedisCommand::name).containsExactly("set", "get", "ping", "quit");
      assertThat(cmds).extracting(RedisCommand::key).containsExactly("hello", "hello", "", "");
      assertThat(cmds.get(0).frame().toString(StandardCharsets.UTF_8))
          .isEqualTo("*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n");
      cmds.forEach(RedisCommand::release);
    }
  }

  /**
   * What a transport delivers while the session has no room (io_uring reads a connection whose peer
   * closed or half-closed to its end, whatever was asked) stays bytes: no command comes out, no
   * read is asked for, a half-close does not drop it, and it comes out in order once there is room.
   */
  @Test
  void bytesDeliveredWhileTheSessionHasNoRoomWaitAsBytesThroughAHalfClose() {
    var room = new java.util.concurrent.atomic.AtomicBoolean(true);
    var reads = new java.util.concurrent.atomic.AtomicInteger();
    var decoder = new RespCommandDecoder(1024);
    decoder.gate(room::get);
    var ch =
        new EmbeddedChannel(
            new io.netty.channel.ChannelOutboundHandlerAdapter() {
              @Override
              public void read(io.netty.channel.ChannelHandlerContext ctx) {
                reads.incrementAndGet();
                ctx.read();
              }
            },
            decoder);
    ch.config().setAutoRead(false);
    ch.writeInbound(buf("PING\r\n"));
    RedisCommand first = ch.readInbound();
    assertThat(first.name()).isEqualTo("ping");
    first.release();

    room.set(false);
    int readsBefore = reads.get();
    ch.writeInbound(buf("*2\r\n$3\r\nGET\r\n$1\r\na\r\nSET b 1\r\n"));
    ch.writeInbound(buf("ECHO c\r\n"));
    ch.pipeline()
        .fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(decoder.holding()).isTrue();
    assertThat(reads.get()).isEqualTo(readsBefore);

    room.set(true);
    decoder.decodeHeld();
    var held = new ArrayList<RedisCommand>();
    RedisCommand c;
    while ((c = ch.readInbound()) != null) {
      held.add(c);
    }
    assertThat(held).extracting(RedisCommand::name).containsExactly("get", "set", "echo");
    assertThat(decoder.holding()).isFalse();
    held.forEach(RedisCommand::release);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void manyEmptyCommandsAreSkippedWithoutDeepRecursion() {
    // 100,000 empty lines and empty arrays ahead of one command, in one read.
    var cmds = decode("\r\n*0\r\n".repeat(50_000) + "PING\r\n", Integer.MAX_VALUE, 1024);
    assertThat(cmds).extracting(RedisCommand::name).containsExactly("ping");
    cmds.forEach(RedisCommand::release);
  }

  @Test
  void badInputIsAProtocolErrorNamingTheProblem() {
    assertThatThrownBy(() -> decode("*2\r\n+x\r\n", 100, 1024))
        .isInstanceOf(DecoderException.class)
        .hasRootCauseMessage("expected '$', got '+'");
    assertThatThrownBy(() -> decode("*x\r\n", 100, 1024))
        .hasRootCauseMessage("invalid multibulk length");
    assertThatThrownBy(() -> decode("*01\r\n$4\r\nPING\r\n", 100, 1024))
        .hasRootCauseMessage("invalid multibulk length");
    assertThatThrownBy(() -> decode("*+1\r\n$4\r\nPING\r\n", 100, 1024))
        .hasRootCauseMessage("invalid multibulk length");
    assertThatThrownBy(() -> decode("*1\r\n$04\r\nPING\r\n", 100, 1024))
        .hasRootCauseMessage("invalid bulk length");
    assertThatThrownBy(() -> decode("*1\r\n$-1\r\n", 100, 1024))
        .hasRootCauseMessage("invalid bulk length");
    assertThatThrownBy(() -> decode("SET \"a b\r\n", 100, 1024))
        .hasRootCauseMessage("unbalanced quotes in request");
    assertThatThrownBy(() -> decode("SET \"a\"b c\r\n", 100, 1024))
        .hasRootCauseMessage("unbalanced quotes in request");
    assertThatThrownBy(() -> decode("x".repeat(70_000), 1000, 1024))
        .hasRootCauseMessage("too big inline request");
    assertThatThrownBy(() -> decode("*" + "1".repeat(70_000), 1000, 1024))
        .hasRootCauseMessage("too big mbulk count string");
    assertThatThrownBy(() -> decode("*1\r\n$" + "1".repeat(70_000), 1000, 1024))
        .hasRootCauseMessage("too big bulk count string");
    assertThatThrownBy(() -> decode("*1\r\n$" + "1".repeat(40) + "\r\n", 1000, 1024))
        .hasRootCauseMessage("invalid bulk length");
  }

  @Test
  void boundariesAreWhereRedisPutsThem() {
    // Redis skips the two bytes after a bulk string and after a header's \r unseen; so does the
    // proxy (the bytes go on unchanged, and Redis reads them the same way).
    for (int step = 1; step < 40; step++) {
      var cmds = decode("*1\r\n$4\r\nPINGxx*1\rX$4\rYPING\r\n*-1\r\n*2000000\r\n", step, 1024);
      assertThat(cmds).extracting(RedisCommand::name).containsExactly("ping", "ping");
      cmds.forEach(RedisCommand::release);
    }
  }

  @Test
  void aLongArrayArrivingInManyReadsIsScannedOnceAndKeepsItsBytes() {
    var cmd = new StringBuilder("*200001\r\n$4\r\nMSET\r\n");
    for (int i = 0; i < 100_000; i++) {
      cmd.append("$1\r\nk\r\n$2\r\nv").append(i % 10).append("\r\n");
    }
    var bytes = cmd.toString() + "PING\r\n";
    // 2,100 reads: a rescan per read would be quadratic (how long it takes is bench/'s to say).
    var cmds = decode(bytes, 1000, 1024);
    assertThat(cmds).extracting(RedisCommand::name).containsExactly("mset", "ping");
    assertThat(cmds.get(0).key()).isEqualTo("k");
    assertThat(cmds.get(0).frame().toString(StandardCharsets.UTF_8)).isEqualTo(cmd.toString());
    cmds.forEach(RedisCommand::release);
  }

  @Test
  void inlineCommandsEndAtABareNewlineAndAreSplitAsRedisSplitsThem() {
    var cmds =
        decode(
            "SET k v\nGET k\r\n  \n" + "SET \"a b\" 'c\\'d' \"\\x41\\n\"\n" + "ECHO \"\"\n",
            3,
            1024);
    assertThat(cmds).extracting(RedisCommand::name).containsExactly("set", "get", "set", "echo");
    assertThat(cmds.get(0).frame().toString(StandardCharsets.UTF_8))
        .isEqualTo("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assertThat(cmds.get(2).key()).isEqualTo("a b");
    assertThat(cmds.get(2).frame().toString(StandardCharsets.UTF_8))
        .isEqualTo("*4\r\n$3\r\nSET\r\n$3\r\na b\r\n$3\r\nc'd\r\n$2\r\nA\n\r\n");
    assertThat(cmds.get(3).frame().toString(StandardCharsets.UTF_8))
        .isEqualTo("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
    cmds.forEach(RedisCommand::release);
  }

  @Test
  void commandsBeforeAProtocolErrorArePassedOnAndNothingAfterIt() {
    var ch = new EmbeddedChannel(new RespCommandDecoder(1024));
    assertThatThrownBy(() -> ch.writeInbound(buf("PING\r\nECHO a\r\n*1\r\n+x\r\nPING\r\n")))
        .hasRootCauseMessage("expected '$', got '+'");
    ch.writeInbound(buf("PING\r\n"));
    var out = new ArrayList<RedisCommand>();
    RedisCommand c;
    while ((c = ch.readInbound()) != null) {
      out.add(c);
    }
    assertThat(out).extracting(RedisCommand::name).containsExactly("ping", "echo");
    out.forEach(RedisCommand::release);
    ch.finishAndReleaseAll();
  }

  @Test
  void httpRequestLinesAreKnownAsClosingCommands() {
    var cmds = decode("POST / HTTP/1.1\r\nHost: x\r\n*1\r\n$5\r\nHOST:\r\nQUIT\n", 5, 1024);
    assertThat(cmds).extracting(RedisCommand::closes).containsExactly(true, true, true, false);
    assertThat(cmds.get(3).quits()).isTrue();
    cmds.forEach(RedisCommand::release);
  }

  @Test
  void denyCommandsAndOutputLimitsAreValidated() throws Exception {
    var p = protocol("{\"deny_commands\": [\"FLUSHALL\", \"config\"]}");
    assertThat(p.denied()).containsExactlyInAnyOrder("flushall", "config");
    assertThat(protocol(null).denied()).isEmpty();
    assertThat(protocol(null).output()).isEqualTo(RedisProtocol.OutputLimits.DEFAULTS);
    assertThatThrownBy(() -> protocol("{\"deny_commands\": \"flushall\"}"))
        .hasMessage("protocol.conf.deny_commands: expected an array of command names");
    assertThatThrownBy(() -> protocol("{\"deny_commands\": [\"flush all\"]}"))
        .hasMessageStartingWith("protocol.conf.deny_commands[0]: expected a command name");
    var o =
        protocol("{\"output_buffer\": {\"hard\": \"8mb\", \"soft\": 1024, \"soft_seconds\": 2}}");
    assertThat(o.output()).isEqualTo(new RedisProtocol.OutputLimits(8 << 20, 1024, 2_000_000_000L));
    assertThatThrownBy(() -> protocol("{\"output_buffer\": {\"hard\": \"lots\"}}"))
        .hasMessageStartingWith("protocol.conf.output_buffer.hard: expected a size above 0");
    assertThatThrownBy(() -> protocol("{\"output_buffer\": {\"hard\": 10, \"soft\": 20}}"))
        .hasMessage("protocol.conf.output_buffer.soft: 20 bytes is above hard (10 bytes)");
    assertThatThrownBy(() -> protocol("{\"output_buffer\": {\"hardd\": 10}}"))
        .hasMessage(
            "protocol.conf.output_buffer.hardd: unknown field (expected hard, soft, soft_seconds)");
  }

  @Test
  void aBulkLengthAboveTheLimitIsRefusedBeforeItsBytesArrive() {
    // Only the header is sent: the refusal cannot have waited for (or allocated) the 1 GB.
    assertThatThrownBy(() -> decode("*2\r\n$3\r\nset\r\n$1073741824\r\n", 100, 512 << 20))
        .hasRootCauseMessage("invalid bulk length");
  }

  @Test
  void repliesAreCountedAcrossChunksInRespTwoAndThree() {
    var replies =
        "+OK\r\n-ERR no\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n*-1\r\n*0\r\n"
            + "_\r\n,3.14\r\n#t\r\n(12345678901234567890\r\n=15\r\ntxt:Some string\r\n"
            + "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n~2\r\n:1\r\n:2\r\n"
            + "|1\r\n+ttl\r\n:3600\r\n$2\r\nhi\r\n"
            + ">3\r\n+message\r\n+ch\r\n+payload\r\n"
            + "!8\r\nSYNTAX x\r\n";
    for (int step = 1; step <= replies.length(); step++) {
      var s = new RespReplyScanner();
      int total = 0;
      int pushes = 0;
      var raw = replies.getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < raw.length; i += step) {
        var b = Unpooled.wrappedBuffer(raw, i, Math.min(step, raw.length - i));
        s.feed(b);
        assertThat(b.readerIndex()).isZero(); // the chunk is not consumed: it is forwarded as is
        total += s.takeReplies();
        pushes += s.takePushes();
      }
      assertThat(total).as("replies at step %d", step).isEqualTo(17);
      assertThat(pushes).isEqualTo(1);
    }
  }

  @Test
  void nextCutsRepliesAtTheirEndsWhateverTheSplit() {
    var replies =
        List.of(
            "+OK\r\n",
            "$5\r\nhello\r\n",
            "$-1\r\n",
            "*2\r\n$1\r\na\r\n*1\r\n:1\r\n",
            "-ERR wrong\r\n",
            "$0\r\n\r\n",
            ":7\r\n");
    var all = String.join("", replies);
    var expected = new ArrayList<Integer>();
    int at = 0;
    for (var r : replies) {
      at += r.length();
      expected.add(at);
    }
    var raw = all.getBytes(StandardCharsets.US_ASCII);
    for (int step = 1; step <= raw.length; step++) {
      var s = new RespReplyScanner();
      var ends = new ArrayList<Integer>();
      for (int i = 0; i < raw.length; i += step) {
        var b = Unpooled.wrappedBuffer(raw, i, Math.min(step, raw.length - i));
        int from = b.readerIndex();
        int end;
        while (from < b.writerIndex() && (end = s.next(b, from, b.writerIndex())) >= 0) {
          ends.add(i + end);
          from = end;
        }
      }
      assertThat(ends).as("ends at step %d", step).isEqualTo(expected);
    }
  }

  @Test
  void commandNamesAreFoundInAnyCaseAndSayWhatTheyNeed() {
    var cmds =
        decode(
            "*1\r\n$5\r\nMuLtI\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nget\r\n$1\r\nk\r\n"
                + "*1\r\n$6\r\nFooBar\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\nselect 1\r\n",
            Integer.MAX_VALUE,
            1024);
    assertThat(cmds)
        .extracting(RedisCommand::name)
        .containsExactly("multi", "get", "get", "foobar", "subscribe", "select");
    assertThat(cmds)
        .extracting(RedisCommand::needsOwnConnection)
        .containsExactly(true, false, false, false, true, true);
    assertThat(cmds)
        .extracting(RedisCommand::startsPushes)
        .containsExactly(false, false, false, false, true, false);
    // Known names are shared, not made per command.
    assertThat(cmds.get(1).name()).isSameAs(cmds.get(2).name());
    cmds.forEach(RedisCommand::release);
  }

  @Test
  void multiplexIsABooleanAndOnByDefault() throws Exception {
    assertThat(protocol(null).multiplex()).isTrue();
    assertThat(protocol("{\"multiplex\": false}").multiplex()).isFalse();
    assertThatThrownBy(() -> protocol("{\"multiplex\": \"yes\"}"))
        .hasMessage("protocol.conf.multiplex: expected true or false");
  }

  static RedisProtocol protocol(String conf) throws Exception {
    var json =
        conf == null
            ? null
            : (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(conf);
    try (var sinks = new io.archway.dataplane.support.SyslogSinks()) {
      return RedisProtocol.compile(
          new io.archway.model.StreamRoute.Protocol("redis", null, json, null),
          sinks,
          new java.util.HashSet<>());
    }
  }

  @Test
  void randomBytesNeverCrashTheDecoderOrLeak() {
    var random = new Random(7);
    for (int round = 0; round < 2000; round++) {
      var ch = new EmbeddedChannel(new RespCommandDecoder(1 << 20));
      var bytes = new byte[random.nextInt(200)];
      random.nextBytes(bytes);
      if (round % 2 == 0 && bytes.length > 0) {
        bytes[0] = '*'; // reach deeper into the array parser
      }
      try {
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
      } catch (DecoderException e) {
        assertThat(e.getCause()).isInstanceOf(RespException.class);
      }
      Object m;
      while ((m = ch.readInbound()) != null) {
        ((RedisCommand) m).release();
      }
      try {
        ch.finishAndReleaseAll();
      } catch (DecoderException e) {
        assertThat(e.getCause()).isInstanceOf(RespException.class);
      }
      var scanner = new RespReplyScanner();
      try {
        scanner.feed(Unpooled.wrappedBuffer(bytes));
      } catch (RespException expected) {
        // refused, not crashed
      }
      var cutter = new RespReplyScanner();
      try {
        var b = Unpooled.wrappedBuffer(bytes);
        int from = 0;
        int end;
        while (from < b.writerIndex() && (end = cutter.next(b, from, b.writerIndex())) >= 0) {
          assertThat(end).isGreaterThan(from).isLessThanOrEqualTo(b.writerIndex());
          from = end;
        }
      } catch (RespException expected) {
        // refused, not crashed
      }
    }
  }

  @Test
  void faultGlobsAndTheLastMatchingRuleWins() throws Exception {
    var json =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(
                """
                [{"commands": ["GET", "mget"], "key": "user:*", "delay": 0.5},
                 {"commands": ["get"], "key": "user:1?", "delay": 0.1},
                 {"commands": ["ping"], "delay": 1}]
                """);
    var f = RedisFaults.compile(json);
    assertThat(f.delayNanos("get", "user:7")).isEqualTo(500_000_000L);
    assertThat(f.delayNanos("get", "user:12")).isEqualTo(100_000_000L);
    assertThat(f.delayNanos("mget", "user:12")).isEqualTo(500_000_000L);
    assertThat(f.delayNanos("get", "order:1")).isZero();
    assertThat(f.delayNanos("ping", "")).isEqualTo(1_000_000_000L);
    assertThat(f.delayNanos("set", "user:1")).isZero();
    assertThatThrownBy(
            () ->
                RedisFaults.compile(
                    new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree("[{\"commands\": [], \"delay\": 1}]")))
        .hasMessageContaining("protocol.conf.faults[0].commands");
  }
}
