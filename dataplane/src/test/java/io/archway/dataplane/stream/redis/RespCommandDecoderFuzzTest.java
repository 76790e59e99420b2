package io.archway.dataplane.stream.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Fuzz;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes {@link RespCommandDecoder} (a client's bytes) through an {@code EmbeddedChannel}: random
 * bytes and mutated pipelines of commands, cut into random reads. Whatever comes, the decoder
 * either emits commands or fails with the protocol error ({@link RespException}), releases
 * everything, and never holds more than its limits allow. See docs/fuzzing.md.
 */
class RespCommandDecoderFuzzTest {

  private static final long MAX_BULK = 256;
  private static final Method BUFFERED;

  static {
    try {
      BUFFERED = ByteToMessageDecoder.class.getDeclaredMethod("actualReadableBytes");
      BUFFERED.setAccessible(true);
    } catch (NoSuchMethodException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @Property
  void randomBytes(@ForAll("noise") byte[] input, @ForAll("splits") List<Integer> splits)
      throws Exception {
    decode(input, splits);
  }

  @Property
  void mutatedCommands(
      @ForAll("mutatedPipelines") byte[] input, @ForAll("splits") List<Integer> splits)
      throws Exception {
    decode(input, splits);
  }

  /**
   * Valid pipelines cut anywhere decode to the same commands as read whole (inline commands are
   * forwarded in their RESP form, so the bytes can differ from the input).
   */
  @Property
  void validPipelinesDecodeWhateverTheSplit(
      @ForAll("pipelines") byte[] input, @ForAll("splits") List<Integer> splits) throws Exception {
    var decoded = decode(input, splits);
    assertThat(decoded.error).isNull();
    assertThat(decoded.bytes).isEqualTo(decode(input, List.of(input.length)).bytes);
  }

  /** Pipelines of RESP arrays go to the server byte for byte, however they were cut. */
  @Property
  void arrayPipelinesPassUnchanged(
      @ForAll("arrayPipelines") byte[] input, @ForAll("splits") List<Integer> splits)
      throws Exception {
    var decoded = decode(input, splits);
    assertThat(decoded.error).isNull();
    assertThat(decoded.bytes).isEqualTo(input);
  }

  /**
   * A peer that starts a line or a bulk string and never ends it is cut off at the limit: the
   * decoder holds at most {@code MAX_INLINE} bytes of a line, and a bulk string above {@code
   * maxBulk} is refused from its header.
   */
  @Property(tries = 50)
  void endlessInputIsRefusedAtTheLimit(
      @ForAll("endlessStarts") String start, @ForAll("splits") List<Integer> splits)
      throws Exception {
    var ch = new EmbeddedChannel(new RespCommandDecoder(MAX_BULK));
    var filler = new byte[4096];
    java.util.Arrays.fill(filler, (byte) 'x');
    RuntimeException error = null;
    try {
      ch.writeInbound(Unpooled.copiedBuffer(start, StandardCharsets.ISO_8859_1));
      for (int sent = 0; sent < 2 * RespCommandDecoder.MAX_INLINE; sent += filler.length) {
        ch.writeInbound(Unpooled.wrappedBuffer(filler));
        assertThat(buffered(ch)).isLessThanOrEqualTo(RespCommandDecoder.MAX_INLINE + 64);
      }
    } catch (DecoderException e) {
      error = e;
    }
    assertThat(error).as("what a never-ending %s led to", start).isNotNull();
    assertThat(error.getCause()).isInstanceOf(RespException.class);
    releaseAll(ch);
  }

  @Example
  void aLengthOfNineteenNinesIsAProtocolError() throws Exception {
    // 9999999999999999999 does not fit a long: read as a negative length it was taken as a
    // bulk string ending before it started, and the decoder read at a negative index.
    var decoded =
        decode(
            "*2\r\n$3\r\nget\r\n$9999999999999999999\r\nx\r\n".getBytes(StandardCharsets.US_ASCII),
            List.of(100));
    assertThat(decoded.error).isInstanceOf(RespException.class);
  }

  record Decoded(byte[] bytes, RuntimeException error) {}

  /**
   * Feeds {@code input} in pieces; checks every command, releases it, and returns the bytes of all
   * commands emitted and the protocol error, if any. Any other exception fails the property.
   */
  static Decoded decode(byte[] input, List<Integer> splits) throws Exception {
    var ch = new EmbeddedChannel(new RespCommandDecoder(MAX_BULK));
    var out = new ByteArrayOutputStream();
    RuntimeException error = null;
    try {
      for (var piece : Fuzz.cut(input, splits)) {
        ch.writeInbound(Unpooled.wrappedBuffer(piece));
        drain(ch, out);
        // A command waits whole in the buffer: its elements are bounded by MAX_BULK, so only the
        // count (up to a million) lets it grow, and the fuzz inputs are far smaller.
        assertThat(buffered(ch)).isLessThanOrEqualTo(input.length);
      }
    } catch (DecoderException e) {
      assertThat(e.getCause()).as("a non-protocol error").isInstanceOf(RespException.class);
      error = (RespException) e.getCause();
      drain(ch, out);
    }
    try {
      boolean pending = ch.finish();
      int left = drain(ch, out);
      assertThat(pending).isEqualTo(left > 0);
    } catch (DecoderException e) {
      // The rest of the input, decoded when the channel closes, can hold the same error.
      assertThat(e.getCause()).isInstanceOf(RespException.class);
      releaseAll(ch);
    }
    return new Decoded(out.toByteArray(), error);
  }

  private static int drain(EmbeddedChannel ch, ByteArrayOutputStream out) {
    int n = 0;
    Object m;
    while ((m = ch.readInbound()) != null) {
      n++;
      assertThat(m).isInstanceOf(RedisCommand.class);
      var cmd = (RedisCommand) m;
      try {
        assertThat(cmd.frame().isReadable()).isTrue();
        assertThat(cmd.name()).isNotNull();
        assertThat(cmd.key()).isNotNull();
        var b = new byte[cmd.frame().readableBytes()];
        cmd.frame().getBytes(cmd.frame().readerIndex(), b);
        out.write(b, 0, b.length);
      } finally {
        assertThat(cmd.release()).isTrue();
      }
    }
    return n;
  }

  private static void releaseAll(EmbeddedChannel ch) {
    try {
      ch.finishAndReleaseAll();
    } catch (DecoderException e) {
      assertThat(e.getCause()).isInstanceOf(RespException.class);
      ch.releaseInbound();
    }
  }

  private static int buffered(EmbeddedChannel ch) throws Exception {
    return (int) BUFFERED.invoke(ch.pipeline().get(RespCommandDecoder.class));
  }

  @Provide
  Arbitrary<List<Integer>> splits() {
    return Fuzz.splits();
  }

  @Provide
  Arbitrary<byte[]> noise() {
    var resp = Arbitraries.of((byte) '*', (byte) '$', (byte) '\r', (byte) '\n', (byte) '-');
    var digits = Arbitraries.bytes().between((byte) '0', (byte) '9');
    var anyByte = Arbitraries.bytes();
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(3, resp),
            net.jqwik.api.Tuple.of(3, digits),
            net.jqwik.api.Tuple.of(2, anyByte))
        .list()
        .ofMaxSize(300)
        .map(
            l -> {
              var b = new byte[l.size()];
              for (int i = 0; i < b.length; i++) {
                b[i] = l.get(i);
              }
              return b;
            });
  }

  @Provide
  Arbitrary<byte[]> pipelines() {
    return command(true).list().ofMinSize(1).ofMaxSize(4).map(Fuzz::concat);
  }

  @Provide
  Arbitrary<byte[]> arrayPipelines() {
    return command(false).list().ofMinSize(1).ofMaxSize(4).map(Fuzz::concat);
  }

  @Provide
  Arbitrary<byte[]> mutatedPipelines() {
    return Fuzz.mutated(pipelines(), 6);
  }

  @Provide
  Arbitrary<String> endlessStarts() {
    return Arbitraries.of(
        "",
        "GET ",
        "*",
        "*1",
        "*1\r\n$",
        "*2\r\n$3\r\nget\r\n$",
        "*1\r\n$" + (MAX_BULK + 1) + "\r\n",
        "*2\r\n$3\r\nset\r\n$1000000\r\n");
  }

  /** A command as clients write it: an array of bulk strings, or (with inline) a line. */
  private static Arbitrary<byte[]> command(boolean withInline) {
    var name =
        Arbitraries.of(
            "GET", "set", "PING", "subscribe", "HELLO", "multi", "EXEC", "quit", "AUTH", "x");
    var arg =
        Arbitraries.strings()
            .withCharRange((char) 0, (char) 255)
            .ofMaxLength(40)
            .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
    var array =
        Combinators.combine(name, arg.list().ofMaxSize(4))
            .as(
                (n, args) -> {
                  var out = new ByteArrayOutputStream();
                  write(out, "*" + (args.size() + 1) + "\r\n");
                  bulk(out, n.getBytes(StandardCharsets.US_ASCII));
                  args.forEach(a -> bulk(out, a));
                  return out.toByteArray();
                });
    var word = Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(10);
    var inline =
        Combinators.combine(name, word.list().ofMaxSize(3))
            .as(
                (n, words) ->
                    (n + (words.isEmpty() ? "" : " " + String.join(" ", words)) + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
    return withInline
        ? Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, array), net.jqwik.api.Tuple.of(1, inline))
        : array;
  }

  private static void bulk(ByteArrayOutputStream out, byte[] data) {
    write(out, "$" + data.length + "\r\n");
    out.write(data, 0, data.length);
    write(out, "\r\n");
  }

  private static void write(ByteArrayOutputStream out, String s) {
    var b = s.getBytes(StandardCharsets.US_ASCII);
    out.write(b, 0, b.length);
  }
}
