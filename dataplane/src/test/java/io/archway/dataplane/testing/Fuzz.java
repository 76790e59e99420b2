package io.archway.dataplane.testing;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Generators shared by the {@code *FuzzTest} properties: inputs made from valid samples by byte
 * mutations (as a coverage-guided fuzzer's havoc stage does, without the coverage), and the
 * arbitrary splits of an input into reads. See docs/fuzzing.md.
 */
public final class Fuzz {

  private Fuzz() {}

  /** One change to an input; positions are taken modulo its length. */
  record Mutation(int kind, int at, int length, byte value) {

    byte[] apply(byte[] in) {
      int n = in.length;
      int p = n == 0 ? 0 : Math.floorMod(at, n);
      int len = Math.min(length, n - p);
      var out = new ByteArrayOutputStream(n + length + 1);
      switch (kind) {
        case 0 -> { // overwrite one byte
          if (n == 0) {
            return new byte[] {value};
          }
          var c = in.clone();
          c[p] = value;
          return c;
        }
        case 1 -> { // flip one bit
          if (n == 0) {
            return in;
          }
          var c = in.clone();
          c[p] ^= (byte) (1 << (value & 7));
          return c;
        }
        case 2 -> { // insert a byte
          out.write(in, 0, p);
          out.write(value);
          out.write(in, p, n - p);
        }
        case 3 -> { // delete a range
          out.write(in, 0, p);
          out.write(in, p + len, n - p - len);
        }
        case 4 -> { // duplicate a range
          out.write(in, 0, p + len);
          out.write(in, p, len);
          out.write(in, p + len, n - p - len);
        }
        case 5 -> { // truncate
          out.write(in, 0, p);
        }
        default -> { // insert an interesting token
          var token = TOKENS[Math.floorMod(value, TOKENS.length)];
          out.write(in, 0, p);
          out.write(token, 0, token.length);
          out.write(in, p, n - p);
        }
      }
      return out.toByteArray();
    }
  }

  private static final byte[][] TOKENS = {
    "\r\n".getBytes(),
    "\n".getBytes(),
    "\r".getBytes(),
    "\0".getBytes(),
    "-1".getBytes(),
    "0".getBytes(),
    "4294967296".getBytes(),
    "2147483647".getBytes(),
    "9223372036854775807".getBytes(),
    " ".getBytes(),
    "\t".getBytes(),
    ":".getBytes(),
    {(byte) 0xff},
    {(byte) 0x80},
    {(byte) 0xc3, (byte) 0xa9},
  };

  /** {@code samples}, each changed by up to {@code maxMutations} random mutations. */
  public static Arbitrary<byte[]> mutated(Arbitrary<byte[]> samples, int maxMutations) {
    var mutation =
        Combinators.combine(
                Arbitraries.integers().between(0, 6),
                Arbitraries.integers().greaterOrEqual(0),
                Arbitraries.integers().between(0, 16),
                Arbitraries.bytes())
            .as(Mutation::new);
    return Combinators.combine(samples, mutation.list().ofMaxSize(maxMutations))
        .as(
            (sample, ms) -> {
              var b = sample;
              for (var m : ms) {
                b = m.apply(b);
              }
              return b;
            });
  }

  /** Sizes of successive reads: the input is cut into pieces of these sizes, cycling. */
  public static Arbitrary<List<Integer>> splits() {
    var size =
        Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.integers().between(1, 64)),
            Tuple.of(1, Arbitraries.integers().between(65, 4096)));
    return size.list().ofMinSize(1).ofMaxSize(8);
  }

  /** {@code data} cut into pieces as {@code sizes} say (cycling through them). */
  public static List<byte[]> cut(byte[] data, List<Integer> sizes) {
    var out = new ArrayList<byte[]>();
    int at = 0;
    for (int i = 0; at < data.length; i++) {
      int n = Math.min(sizes.get(i % sizes.size()), data.length - at);
      var piece = new byte[n];
      System.arraycopy(data, at, piece, 0, n);
      out.add(piece);
      at += n;
    }
    return out;
  }

  /** Arbitrary bytes, biased to short inputs. */
  public static Arbitrary<byte[]> bytes(int maxSize) {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(maxSize);
  }

  /** The concatenation of {@code parts}. */
  public static byte[] concat(List<byte[]> parts) {
    var out = new ByteArrayOutputStream();
    parts.forEach(p -> out.write(p, 0, p.length));
    return out.toByteArray();
  }
}
