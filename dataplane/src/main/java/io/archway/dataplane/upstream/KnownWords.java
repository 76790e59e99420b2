package io.archway.dataplane.upstream;

import io.netty.util.AsciiString;

/**
 * A fixed set of words (header names as nodes write them, status line words), found by their exact
 * bytes without allocating: a small open-addressed table keyed by a hash of the bytes, each hit
 * compared byte for byte.
 */
final class KnownWords {

  /** Response header names, in the two spellings servers use (canonical case and lower case). */
  static final KnownWords NAMES =
      new KnownWords(
          "Server",
          "Date",
          "Content-Type",
          "Content-Length",
          "Connection",
          "Keep-Alive",
          "Transfer-Encoding",
          "Cache-Control",
          "Last-Modified",
          "ETag",
          "Accept-Ranges",
          "Vary",
          "Expires",
          "Location",
          "Set-Cookie",
          "Content-Encoding",
          "Pragma",
          "Age",
          "Access-Control-Allow-Origin",
          "X-Content-Type-Options",
          "X-Frame-Options",
          "Strict-Transport-Security",
          "Content-Security-Policy",
          "Trailer",
          "Grpc-Status",
          "Grpc-Message",
          "X-Request-Id");

  /** Words of a status line. */
  static final KnownWords LINE =
      new KnownWords(
          "HTTP/1.1",
          "HTTP/1.0",
          "200",
          "204",
          "301",
          "302",
          "304",
          "400",
          "401",
          "403",
          "404",
          "500",
          "502",
          "503",
          "OK",
          "No Content",
          "Moved Permanently",
          "Found",
          "Not Modified",
          "Bad Request",
          "Unauthorized",
          "Forbidden",
          "Not Found",
          "Internal Server Error",
          "Bad Gateway",
          "Service Unavailable");

  private final AsciiString[] table;
  private final int mask;

  private KnownWords(String... words) {
    int size = Integer.highestOneBit(words.length * 2 * 4 - 1) << 1;
    table = new AsciiString[size];
    mask = size - 1;
    for (var w : words) {
      put(AsciiString.cached(w));
      var lower = w.toLowerCase(java.util.Locale.ROOT);
      if (!lower.equals(w)) {
        put(AsciiString.cached(lower));
      }
    }
  }

  private void put(AsciiString word) {
    byte[] b = word.array();
    int i = hash(b, word.arrayOffset(), word.length()) & mask;
    while (table[i] != null) {
      if (table[i].contentEquals(word)) {
        return;
      }
      i = (i + 1) & mask;
    }
    table[i] = word;
  }

  /** The word whose bytes are exactly {@code b[start, start + length)}, or {@code null}. */
  AsciiString find(byte[] b, int start, int length) {
    int i = hash(b, start, length) & mask;
    AsciiString w;
    while ((w = table[i]) != null) {
      if (w.length() == length && same(w, b, start, length)) {
        return w;
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  private static boolean same(AsciiString w, byte[] b, int start, int length) {
    byte[] a = w.array();
    int off = w.arrayOffset();
    for (int k = 0; k < length; k++) {
      if (a[off + k] != b[start + k]) {
        return false;
      }
    }
    return true;
  }

  private static int hash(byte[] b, int start, int length) {
    int h = length;
    for (int k = 0; k < length; k++) {
      h = 31 * h + b[start + k];
    }
    return h ^ (h >>> 16);
  }
}
