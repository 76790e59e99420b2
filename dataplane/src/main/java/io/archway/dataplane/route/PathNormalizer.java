package io.archway.dataplane.route;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;

/**
 * Puts a request path in the one form that routes, plugins and the upstream all see, as nginx does
 * before it routes (docs/security.md, "Paths" says exactly what and in which order). A path that
 * needs no work, the common case, is recognised in one scan and returned as it is; only the others
 * are copied.
 *
 * <p>The result has two spellings of the same path: {@code decoded} (every escape decoded, UTF-8;
 * what routes match and the {@code uri} variable holds, like nginx's {@code $uri}) and {@code
 * encoded} (RFC 3986 §6.2.2 form: unreserved characters decoded, other escapes kept with upper-case
 * hex, bytes that cannot go raw in a request line escaped; what the upstream receives).
 */
public final class PathNormalizer {

  private PathNormalizer() {}

  /** What an escaped slash ({@code %2F}) in a path does. */
  public enum EscapedSlashes {
    /** Decoded to {@code /} before dot segments are removed: a separator, as in nginx. */
    DECODE,
    /** The request gets a 400. */
    REJECT,
    /** Kept as {@code %2F}: part of its segment, not a separator. */
    KEEP;

    /** The setting's value: {@code decode}, {@code reject} or {@code keep}; else {@code null}. */
    public static EscapedSlashes parse(String s) {
      return switch (s) {
        case "decode" -> DECODE;
        case "reject" -> REJECT;
        case "keep" -> KEEP;
        default -> null;
      };
    }
  }

  /**
   * How paths are normalized.
   *
   * @param mergeSlashes nginx's {@code merge_slashes}: {@code //} counts as {@code /}
   * @param escapedSlashes what {@code %2F} does
   */
  public record Policy(boolean mergeSlashes, EscapedSlashes escapedSlashes) {
    public static final Policy DEFAULT = new Policy(true, EscapedSlashes.DECODE);
  }

  /** A request target that gets a 400; the message says why (for tests and debugging). */
  public static final class BadTarget extends RuntimeException {
    BadTarget(String reason) {
      // Thrown per bad request: no stack trace to fill.
      super(reason, null, false, false);
    }
  }

  /** A normalized path in its two spellings (see the class comment). */
  record Normalized(String decoded, String encoded) {}

  /**
   * Whether {@code s[from, to)}, a path starting with {@code /}, is already normal: no {@code %},
   * no {@code //}, no {@code /.}, nothing outside printable ASCII, no {@code #}. No allocation.
   */
  static boolean isNormal(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7F || c == '%' || c == '#') {
        return false;
      }
      if (c == '/' && i + 1 < to) {
        char n = s.charAt(i + 1);
        if (n == '/' || n == '.') {
          return false;
        }
      }
    }
    return true;
  }

  /** Normalizes {@code s[from, to)}, a path starting with {@code /}; a bad one throws. */
  static Normalized normalize(String s, int from, int to, Policy policy) {
    var segments = split(s, from, to, policy);
    int n = segments.size();
    int[] kept = new int[n];
    int top = 0;
    boolean trailingSlash = false;
    for (int k = 0; k < n; k++) {
      var seg = segments.get(k);
      boolean last = k == n - 1;
      trailingSlash = false;
      if (seg.isDot()) {
        trailingSlash = last;
      } else if (seg.isDotDot()) {
        // RFC 3986 would stop at the root; a client that tries to climb above it is probing.
        if (top == 0) {
          throw new BadTarget("'..' climbs above the root");
        }
        top--;
        trailingSlash = last;
      } else if (seg.isDotWithParameters()) {
        // "..;x" is ".." to servlet containers (they drop path parameters first) and a name to
        // everyone else: the upstream and the router could not agree on it.
        throw new BadTarget("dot segment with parameters");
      } else if (seg.encoded.isEmpty() && policy.mergeSlashes()) {
        trailingSlash = last;
      } else {
        kept[top++] = k;
      }
    }
    var encoded = new StringBuilder(to - from);
    var decoded = new Bytes(to - from);
    for (int k = 0; k < top; k++) {
      var seg = segments.get(kept[k]);
      encoded.append('/').append(seg.encoded);
      decoded.add('/');
      decoded.add(seg.decoded);
    }
    if (top == 0 || trailingSlash) {
      encoded.append('/');
      decoded.add('/');
    }
    return new Normalized(decoded.utf8(), encoded.toString());
  }

  /** One path segment, in the two spellings. */
  private record Segment(String encoded, byte[] decoded) {
    // The encoded spelling has unreserved escapes decoded, so %2E%2e is ".." here.
    boolean isDot() {
      return encoded.equals(".");
    }

    boolean isDotDot() {
      return encoded.equals("..");
    }

    boolean isDotWithParameters() {
      return encoded.startsWith(".;") || encoded.startsWith("..;");
    }
  }

  /**
   * The segments after the leading slash, escapes decoded or kept, with everything that is refused
   * refused: control characters raw or escaped, bad escapes, {@code %2F} when rejected.
   */
  private static ArrayList<Segment> split(String s, int from, int to, Policy policy) {
    var segments = new ArrayList<Segment>();
    var enc = new StringBuilder();
    var dec = new Bytes(16);
    int i = from + 1;
    while (true) {
      if (i >= to) {
        segments.add(new Segment(enc.toString(), dec.take()));
        return segments;
      }
      char c = s.charAt(i);
      if (c == '/') {
        segments.add(new Segment(enc.toString(), dec.take()));
        enc.setLength(0);
        i++;
        continue;
      }
      if (c == '%') {
        int hi = i + 1 < to ? hex(s.charAt(i + 1)) : -1;
        int lo = i + 2 < to ? hex(s.charAt(i + 2)) : -1;
        if (hi < 0 || lo < 0) {
          throw new BadTarget("malformed percent-encoding");
        }
        int b = hi << 4 | lo;
        i += 3;
        if (b < 0x20 || b == 0x7F) {
          throw new BadTarget("encoded control character");
        }
        if (b == '/') {
          switch (policy.escapedSlashes()) {
            case DECODE -> {
              segments.add(new Segment(enc.toString(), dec.take()));
              enc.setLength(0);
            }
            case REJECT -> throw new BadTarget("encoded slash");
            case KEEP -> {
              enc.append("%2F");
              dec.add('%').add('2').add('F');
            }
          }
          continue;
        }
        if (isUnreserved(b)) {
          enc.append((char) b);
          dec.add(b);
        } else if (b == '%' && policy.escapedSlashes() == EscapedSlashes.KEEP) {
          // With %2F kept as text, a decoded '%' would make "%2F" ambiguous: keep %25 too.
          enc.append("%25");
          dec.add('%').add('2').add('5');
        } else {
          escape(enc, b);
          dec.add(b);
        }
        continue;
      }
      if (c < 0x20 || c == 0x7F) {
        throw new BadTarget("control character");
      }
      if (c == '#') {
        throw new BadTarget("fragment");
      }
      if (c > 0xFF) {
        throw new BadTarget("not a byte");
      }
      if (c == ' ' || c >= 0x80) {
        // Cannot go raw in a request line: the upstream gets it escaped.
        escape(enc, c);
      } else {
        enc.append(c);
      }
      dec.add(c);
      i++;
    }
  }

  /**
   * {@code s} with what cannot stand raw in a request target's path escaped: spaces, control
   * characters, {@code #}, {@code %} and non-ASCII (as UTF-8). For a path made from the decoded
   * spelling (a {@code proxy-rewrite} of {@code $uri}): a decoded {@code %2e} must not reach the
   * upstream as an escape again. From the first {@code ?} on, {@code s} is a query and is kept.
   */
  static String escapePath(String s) {
    return escape(s, true, false);
  }

  /**
   * A target a plugin made from variables (which are decoded), escaped so it cannot break the
   * request line: spaces, control characters, DEL and non-ASCII (as UTF-8) everywhere, query
   * included, and in the path also {@code #} and {@code %} when it was made from the decoded
   * spelling, as {@link #escapePath}.
   */
  public static String escapeRewritten(String s, boolean fromDecodedPath) {
    return escape(s, fromDecodedPath, true);
  }

  private static String escape(String s, boolean decodedPath, boolean query) {
    int q = s.indexOf('?');
    int end = q < 0 ? s.length() : q;
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean inPath = i < end;
      boolean escaped =
          (inPath || query)
              && (c <= ' ' || c >= 0x7F || (inPath && decodedPath && (c == '#' || c == '%')));
      if (!escaped) {
        if (sb != null) {
          sb.append(c);
        }
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (c >= 0x80) {
        int cp = s.codePointAt(i);
        if (Character.charCount(cp) == 2) {
          i++;
        }
        for (var b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
          escape(sb, b & 0xFF);
        }
      } else {
        escape(sb, c);
      }
    }
    return sb == null ? s : sb.toString();
  }

  static boolean isUnreserved(int b) {
    return (b >= 'a' && b <= 'z')
        || (b >= 'A' && b <= 'Z')
        || (b >= '0' && b <= '9')
        || b == '-'
        || b == '.'
        || b == '_'
        || b == '~';
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private static void escape(StringBuilder sb, int b) {
    sb.append('%').append(HEX[b >> 4]).append(HEX[b & 15]);
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** A growable byte array, for the decoded spelling. */
  private static final class Bytes {
    private byte[] a;
    private int n;
    private boolean ascii = true;

    Bytes(int capacity) {
      a = new byte[Math.max(capacity, 16)];
    }

    Bytes add(int b) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = (byte) b;
      ascii &= b < 0x80;
      return this;
    }

    void add(byte[] bytes) {
      for (var b : bytes) {
        add(b & 0xFF);
      }
    }

    byte[] take() {
      var out = Arrays.copyOf(a, n);
      n = 0;
      return out;
    }

    /** The bytes as UTF-8; bytes that are not UTF-8 (overlong forms included) are refused. */
    String utf8() {
      if (ascii) {
        return new String(a, 0, n, StandardCharsets.ISO_8859_1);
      }
      try {
        return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(a, 0, n)).toString();
      } catch (CharacterCodingException e) {
        throw new BadTarget("path is not UTF-8");
      }
    }
  }
}
