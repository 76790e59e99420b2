package io.archway.dataplane.stream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.testing.Fuzz;
import io.netty.buffer.Unpooled;
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
 * Fuzzes {@link RespReplyScanner} (a Redis server's bytes, RESP2 and RESP3): random and mutated
 * replies in random chunks fail only with {@link RespException}; valid replies, however cut, are
 * counted exactly, and {@link RespReplyScanner#next} finds where each ends. See docs/fuzzing.md.
 */
class RespReplyScannerFuzzTest {

  @Property
  void randomBytes(@ForAll("noise") byte[] input, @ForAll("splits") List<Integer> splits) {
    scan(input, splits);
  }

  @Property
  void mutatedReplies(
      @ForAll("mutatedReplies") byte[] input, @ForAll("splits") List<Integer> splits) {
    scan(input, splits);
  }

  @Property
  void validRepliesAreCountedWhateverTheSplit(
      @ForAll("replySeeds") long seed, @ForAll("splits") List<Integer> splits) {
    var random = new Random(seed);
    var text = new StringBuilder();
    int replies = 0;
    int pushes = 0;
    for (int i = random.nextInt(1, 5); i > 0; i--) {
      if (random.nextInt(5) == 0) {
        text.append(push(random));
        pushes++;
      } else {
        text.append(reply(random, 3));
        replies++;
      }
    }
    var input = text.toString().getBytes(StandardCharsets.ISO_8859_1);

    var scanner = new RespReplyScanner();
    for (var piece : Fuzz.cut(input, splits)) {
      scanner.feed(Unpooled.wrappedBuffer(piece));
    }
    assertThat(scanner.takeReplies()).as(text.toString()).isEqualTo(replies);
    assertThat(scanner.takePushes()).as(text.toString()).isEqualTo(pushes);

    // next() stops at the end of each reply (pushes are passed over).
    var stepper = new RespReplyScanner();
    int found = 0;
    for (var piece : Fuzz.cut(input, splits)) {
      var buf = Unpooled.wrappedBuffer(piece);
      int from = 0;
      int end;
      while (from < piece.length && (end = stepper.next(buf, from, piece.length)) >= 0) {
        assertThat(end).isGreaterThan(from).isLessThanOrEqualTo(piece.length);
        found++;
        from = end;
      }
    }
    assertThat(found).isEqualTo(replies);
  }

  @Example
  void nestingBeyondTheLimitIsAProtocolError() {
    var scanner = new RespReplyScanner();
    var deep = Unpooled.copiedBuffer("*1\r\n".repeat(200), StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> scanner.feed(deep)).isInstanceOf(RespException.class);
  }

  @Example
  void aLineWithoutEndIsRefusedAtTheLimit() {
    var scanner = new RespReplyScanner();
    var chunk =
        Unpooled.wrappedBuffer(("+" + "x".repeat(4095)).getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(
            () -> {
              for (int i = 0; i < 64; i++) {
                scanner.feed(chunk);
              }
            })
        .isInstanceOf(RespException.class)
        .hasMessage("reply line too long");
  }

  private static void scan(byte[] input, List<Integer> splits) {
    var scanner = new RespReplyScanner();
    try {
      for (var piece : Fuzz.cut(input, splits)) {
        var buf = Unpooled.wrappedBuffer(piece);
        scanner.feed(buf);
        assertThat(buf.readerIndex()).isZero(); // nothing consumed
        assertThat(scanner.takeReplies()).isNotNegative();
        assertThat(scanner.takePushes()).isNotNegative();
      }
    } catch (RespException e) {
      // the defined error: the proxy closes the server connection
    }
  }

  /** One reply, aggregates nested up to {@code depth}. */
  static String reply(Random r, int depth) {
    int kind = r.nextInt(depth > 0 ? 16 : 10);
    return switch (kind) {
      case 0 -> "+OK\r\n";
      case 1 -> "-ERR wrong " + r.nextInt(100) + "\r\n";
      case 2 -> ":" + r.nextLong() + "\r\n";
      case 3 -> "_\r\n";
      case 4 -> "," + r.nextDouble() + "\r\n";
      case 5 -> "#" + (r.nextBoolean() ? "t" : "f") + "\r\n";
      case 6 -> "(" + r.nextLong() + r.nextInt(1000) + "\r\n";
      case 7 -> bulk(r, "$");
      case 8 -> r.nextBoolean() ? "$-1\r\n" : "*-1\r\n";
      case 9 -> r.nextBoolean() ? bulk(r, "!") : bulk(r, "=");
      case 10, 11 -> aggregate(r, "*", r.nextInt(4), depth);
      case 12 -> aggregate(r, "~", r.nextInt(4), depth);
      case 13 -> {
        int n = r.nextInt(3);
        var s = new StringBuilder("%" + n + "\r\n");
        for (int i = 0; i < 2 * n; i++) {
          s.append(reply(r, depth - 1));
        }
        yield s.toString();
      }
      default -> {
        // An attribute, then the reply it describes.
        int n = r.nextInt(1, 3);
        var s = new StringBuilder("|" + n + "\r\n");
        for (int i = 0; i < 2 * n; i++) {
          s.append(reply(r, depth - 1));
        }
        yield s.append(reply(r, depth - 1)).toString();
      }
    };
  }

  private static String push(Random r) {
    return aggregate(r, ">", r.nextInt(1, 4), 2);
  }

  private static String aggregate(Random r, String type, int n, int depth) {
    var s = new StringBuilder(type + n + "\r\n");
    for (int i = 0; i < n; i++) {
      s.append(reply(r, depth - 1));
    }
    return s.toString();
  }

  private static String bulk(Random r, String type) {
    var data = new StringBuilder();
    for (int i = r.nextInt(20); i > 0; i--) {
      data.append((char) r.nextInt(256)); // CR, LF and all: the length says where it ends
    }
    return type + data.length() + "\r\n" + data + "\r\n";
  }

  @Provide
  Arbitrary<List<Integer>> splits() {
    return Fuzz.splits();
  }

  @Provide
  Arbitrary<Long> replySeeds() {
    return Arbitraries.longs();
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Fuzz.bytes(300);
  }

  @Provide
  Arbitrary<byte[]> mutatedReplies() {
    return Fuzz.mutated(
        Arbitraries.longs()
            .map(
                seed -> {
                  var r = new Random(seed);
                  return (reply(r, 3) + reply(r, 2)).getBytes(StandardCharsets.ISO_8859_1);
                }),
        6);
  }
}
