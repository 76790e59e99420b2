package io.archway.dataplane.pubsub;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.archway.dataplane.pubsub.proto.CmdEmpty;
import io.archway.dataplane.pubsub.proto.CmdKafkaFetch;
import io.archway.dataplane.pubsub.proto.CmdKafkaListOffset;
import io.archway.dataplane.pubsub.proto.CmdPing;
import io.archway.dataplane.pubsub.proto.PubSubReq;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import io.archway.dataplane.testing.Fuzz;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes what a pub-sub client's bytes go through after the upgrade: the WebSocket frame decoder
 * and aggregator configured as {@link PubSub} configures them, then {@link PubSubSession}, which
 * parses a {@code PubSubReq} from each binary message. Random bytes and mutated streams of frames
 * (valid, broken and random requests; fragments, pings, closes, text) in random reads: every answer
 * is a valid {@code PubSubResp}, nothing leaks, and the connection is closed only with a close
 * frame, never by an unexpected exception. The backend is closed from the start, so commands for
 * Kafka are answered at once ("the gateway is stopping") without a broker. See docs/fuzzing.md.
 */
class PubSubRequestFuzzTest {

  private static final int MAX_FRAME = 1024;
  private static final PubSubSettings SETTINGS =
      PubSubSettings.DEFAULTS.withMaxFrameBytes(MAX_FRAME);
  private static final PubSubMetrics METRICS = new PubSubMetrics();
  private static final KafkaBackend BACKEND =
      new KafkaBackend(
          new KafkaAccess(List.of("127.0.0.1:9"), false, false, null, null), SETTINGS, METRICS);

  static {
    BACKEND.close(); // its consumer threads end; commands are answered at once
  }

  @Property
  void randomBytes(@ForAll("noise") byte[] input, @ForAll("splits") List<Integer> splits)
      throws Exception {
    session(input, splits);
  }

  @Property
  void mutatedFrames(@ForAll("mutatedFrames") byte[] input, @ForAll("splits") List<Integer> splits)
      throws Exception {
    session(input, splits);
  }

  /** Valid requests in valid frames are each answered, in order, with their sequence. */
  @Property
  void validRequestsAreAnswered(@ForAll("seeds") long seed, @ForAll("splits") List<Integer> splits)
      throws Exception {
    var r = new Random(seed);
    var out = new ByteArrayOutputStream();
    int n = r.nextInt(1, 5);
    for (int i = 0; i < n; i++) {
      var req = request(r).toBuilder().setSequence(i + 1).build();
      out.writeBytes(frame(true, 2, req.toByteArray(), r.nextInt()));
    }
    var answers = session(out.toByteArray(), splits);
    assertThat(answers).extracting(PubSubResp::getSequence).containsExactlyInAnyOrder(seqs(n));
  }

  @Example
  void aClientThatLeavesInTheMiddleOfAMessageIsNoFailure() throws Exception {
    // Found by mutatedFrames: the aggregator's PrematureChannelClosureException was logged as a
    // failed session, with its stack trace, whenever a client left in the middle of a message:
    // any client could fill the log at will.
    session(frame(false, 2, new byte[] {8, 1}, 7), List.of(100));
  }

  private static Long[] seqs(int n) {
    var s = new Long[n];
    for (int i = 0; i < n; i++) {
      s[i] = (long) i + 1;
    }
    return s;
  }

  /**
   * Runs {@code input} through a session; returns the answers. Fails on an answer that is not a
   * {@code PubSubResp}, or a warning or error logged (an unexpected exception).
   */
  private static List<PubSubResp> session(byte[] input, List<Integer> splits) throws Exception {
    var ch = channel();
    var written = new ByteArrayOutputStream();
    return answers(ch, input, splits, written);
  }

  /** The pipeline {@link PubSub#upgrade} leaves behind (without the idle timer). */
  private static EmbeddedChannel channel() {
    var decoder =
        WebSocketDecoderConfig.newBuilder()
            .expectMaskedFrames(true)
            .allowMaskMismatch(false)
            .allowExtensions(false)
            .maxFramePayloadLength(SETTINGS.maxFrameBytes())
            .closeOnProtocolViolation(true)
            .build();
    BACKEND.acquire();
    return new EmbeddedChannel(
        new WebSocket13FrameEncoder(false),
        new WebSocket13FrameDecoder(decoder),
        new WebSocketFrameAggregator(SETTINGS.maxFrameBytes()),
        new PubSubSession(BACKEND, SETTINGS, METRICS, "fuzz"));
  }

  private static List<PubSubResp> answers(
      EmbeddedChannel ch, byte[] input, List<Integer> splits, ByteArrayOutputStream written)
      throws Exception {
    // The session handles its own exceptions (it logs and closes): an unexpected one shows only
    // in its log, which slf4j-simple writes to System.err.
    var log = new ByteArrayOutputStream();
    var stderr = System.err;
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    try {
      for (var piece : Fuzz.cut(input, splits)) {
        if (!ch.isOpen()) {
          break;
        }
        ch.writeInbound(Unpooled.wrappedBuffer(piece));
        ch.runPendingTasks();
        collect(ch, written);
      }
      ch.runPendingTasks();
      collect(ch, written);
      ch.finishAndReleaseAll();
    } finally {
      System.setErr(stderr);
    }
    assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("[WARN]", "[ERROR]");
    var frames = ServerFrames.parse(written.toByteArray());
    var answers = new java.util.ArrayList<PubSubResp>();
    for (var f : frames) {
      if (f.opcode() == 2) {
        try {
          answers.add(PubSubResp.parseFrom(f.payload()));
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError("an answer that is not a PubSubResp", e);
        }
      }
    }
    return answers;
  }

  private static void collect(EmbeddedChannel ch, ByteArrayOutputStream out) {
    Object m;
    while ((m = ch.readOutbound()) != null) {
      var b = (ByteBuf) m;
      try {
        var bytes = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), bytes);
        out.writeBytes(bytes);
      } finally {
        b.release();
      }
    }
  }

  /** The frames a server wrote (unmasked), as far as they are whole. */
  static final class ServerFrames {
    record Frame(int opcode, byte[] payload) {}

    static List<Frame> parse(byte[] b) {
      var out = new java.util.ArrayList<Frame>();
      int i = 0;
      while (i + 2 <= b.length) {
        int opcode = b[i] & 0x0f;
        long len = b[i + 1] & 0x7f;
        i += 2;
        if (len == 126) {
          len = ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
          i += 2;
        } else if (len == 127) {
          len = 0;
          for (int k = 0; k < 8; k++) {
            len = (len << 8) | (b[i + k] & 0xff);
          }
          i += 8;
        }
        var payload = java.util.Arrays.copyOfRange(b, i, (int) (i + len));
        out.add(new Frame(opcode, payload));
        i += (int) len;
      }
      return out;
    }
  }

  /** A client frame: masked, as clients must send. */
  static byte[] frame(boolean fin, int opcode, byte[] payload, int maskKey) {
    var out = new ByteArrayOutputStream();
    out.write((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else if (payload.length < 65536) {
      out.write(0x80 | 126);
      out.write(payload.length >> 8);
      out.write(payload.length & 0xff);
    } else {
      out.write(0x80 | 127);
      for (int k = 7; k >= 0; k--) {
        out.write((int) ((long) payload.length >> (8 * k)) & 0xff);
      }
    }
    var mask =
        new byte[] {
          (byte) (maskKey >> 24), (byte) (maskKey >> 16), (byte) (maskKey >> 8), (byte) maskKey
        };
    out.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i & 3]);
    }
    return out.toByteArray();
  }

  static PubSubReq request(Random r) {
    var b = PubSubReq.newBuilder().setSequence(r.nextLong());
    switch (r.nextInt(5)) {
      case 0 -> {
        var state = new byte[r.nextInt(64)];
        r.nextBytes(state);
        b.setCmdPing(CmdPing.newBuilder().setState(ByteString.copyFrom(state)));
      }
      case 1 -> b.setCmdEmpty(CmdEmpty.getDefaultInstance());
      case 2 ->
          b.setCmdKafkaFetch(
              CmdKafkaFetch.newBuilder()
                  .setTopic(r.nextBoolean() ? "orders" : "")
                  .setPartition(r.nextInt())
                  .setOffset(r.nextLong()));
      case 3 ->
          b.setCmdKafkaListOffset(
              CmdKafkaListOffset.newBuilder()
                  .setTopic("t" + r.nextInt(3))
                  .setPartition(r.nextInt(-2, 3))
                  .setTimestamp(r.nextInt(-4, 2)));
      default -> {} // no command set
    }
    return b.build();
  }

  /** A stream of frames: requests (valid or not), fragments, control frames and random ones. */
  private static byte[] frames(Random r) {
    var out = new ByteArrayOutputStream();
    for (int i = r.nextInt(1, 5); i > 0; i--) {
      int mask = r.nextInt();
      switch (r.nextInt(8)) {
        case 0, 1, 2 -> out.writeBytes(frame(true, 2, request(r).toByteArray(), mask));
        case 3 -> {
          var req = request(r).toByteArray();
          int cut = req.length / 2;
          out.writeBytes(frame(false, 2, java.util.Arrays.copyOf(req, cut), mask));
          out.writeBytes(frame(true, 0, java.util.Arrays.copyOfRange(req, cut, req.length), mask));
        }
        case 4 -> out.writeBytes(frame(true, 9, new byte[r.nextInt(10)], mask));
        case 5 -> out.writeBytes(frame(true, 1, "hello".getBytes(), mask));
        case 6 -> out.writeBytes(frame(true, 8, new byte[] {3, (byte) 232}, mask));
        default -> {
          var junk = new byte[r.nextInt(0, 2 * MAX_FRAME)];
          r.nextBytes(junk);
          out.writeBytes(frame(r.nextBoolean(), r.nextInt(16), junk, mask));
        }
      }
    }
    return out.toByteArray();
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }

  @Provide
  Arbitrary<List<Integer>> splits() {
    return Fuzz.splits();
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Fuzz.bytes(300);
  }

  @Provide
  Arbitrary<byte[]> mutatedFrames() {
    return Fuzz.mutated(Arbitraries.longs().map(s -> frames(new Random(s))), 6);
  }
}
