package io.archway.dataplane.plugins;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * gRPC-Web's wire format apart from gRPC's: the trailer frame (flag {@code 0x80}, a 4-byte length,
 * then the trailer fields as {@code name: value\r\n} lines) that carries the status in the body,
 * and the base64 of the {@code -text} content types, decoded as it streams (any split of the input,
 * and padded segments one after another, as clients that encode each message apart send them).
 */
final class GrpcWebCodec {

  /** The flag byte of a trailer frame (the MSB of gRPC's compressed-flag byte). */
  static final int TRAILER_FLAG = 0x80;

  static final String STATUS = "grpc-status";
  static final String MESSAGE = "grpc-message";
  static final String STATUS_DETAILS = "grpc-status-details-bin";

  private GrpcWebCodec() {}

  /**
   * The trailer frame for {@code fields}, in their order, names in lower case (gRPC-Web asks for
   * it). Names that cannot be header names are left out.
   */
  static ByteBuf trailerFrame(List<Map.Entry<String, String>> fields, ByteBufAllocator alloc) {
    var text = new StringBuilder();
    for (var f : fields) {
      text.append(f.getKey().toLowerCase(Locale.ROOT)).append(": ").append(f.getValue());
      text.append("\r\n");
    }
    var bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    var out = alloc.buffer(5 + bytes.length);
    out.writeByte(TRAILER_FLAG).writeInt(bytes.length).writeBytes(bytes);
    return out;
  }

  /**
   * The trailer fields of an answer: {@code grpc-status} first, then {@code grpc-message}, then the
   * rest, from the fields a trailers-only head carried ({@code head}, may be null) and the
   * trailers; the entries are taken off {@code trailers}.
   */
  static List<Map.Entry<String, String>> trailerFields(HttpHeaders head, HttpHeaders trailers) {
    var all = new ArrayList<Map.Entry<String, String>>();
    if (head != null) {
      head.forEach(all::add);
    }
    trailers.forEach(all::add);
    trailers.clear();
    var ordered = new ArrayList<Map.Entry<String, String>>(all.size());
    for (var name : List.of(STATUS, MESSAGE)) {
      for (var e : all) {
        if (e.getKey().equalsIgnoreCase(name)) {
          ordered.add(Map.entry(name, e.getValue()));
          break;
        }
      }
    }
    for (var e : all) {
      if (!e.getKey().equalsIgnoreCase(STATUS) && !e.getKey().equalsIgnoreCase(MESSAGE)) {
        ordered.add(Map.entry(e.getKey(), e.getValue()));
      }
    }
    return ordered;
  }

  /** The base64 of one piece of the body (padded: each piece is a segment of its own). */
  static ByteBuf encodeBase64(ByteBuf in, ByteBufAllocator alloc) {
    try {
      if (!in.isReadable()) {
        return Unpooled.EMPTY_BUFFER;
      }
      var encoded = Base64.getEncoder().encode(in.nioBuffer());
      var out = alloc.buffer(encoded.remaining());
      out.writeBytes(encoded);
      return out;
    } finally {
      in.release();
    }
  }

  /**
   * A base64 decoder fed piece by piece: whole quads are decoded as they complete, up to three
   * characters wait for the next piece; a quad with padding ends a segment and the next one may
   * follow at once. Whitespace is skipped.
   */
  static final class Base64Decoder {
    private final int[] quad = new int[4];
    private int held; // characters of the current quad
    private int padding; // '=' seen in the current quad

    /**
     * Decodes {@code in} (released here, also when it is not base64).
     *
     * @throws IllegalArgumentException on a character that is not base64 or misplaced padding
     */
    ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      try {
        int n = in.readableBytes();
        if (n == 0) {
          return Unpooled.EMPTY_BUFFER;
        }
        var out = alloc.buffer((held + n) / 4 * 3 + 3);
        try {
          for (int i = in.readerIndex(), end = i + n; i < end; i++) {
            add(in.getByte(i), out);
          }
          return out;
        } catch (RuntimeException e) {
          out.release();
          throw e;
        }
      } finally {
        in.release();
      }
    }

    /** The input ended: an unfinished quad is an error. */
    void finish() {
      if (held != 0) {
        throw new IllegalArgumentException("base64 body ends inside a quad");
      }
    }

    private void add(byte b, ByteBuf out) {
      int c = b & 0xff;
      if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
        return;
      }
      int v;
      if (c == '=') {
        if (held < 2) {
          throw new IllegalArgumentException("misplaced base64 padding");
        }
        padding++;
        v = 0;
      } else {
        if (padding > 0) {
          throw new IllegalArgumentException("base64 data after padding");
        }
        v = value(c);
      }
      quad[held++] = v;
      if (held < 4) {
        return;
      }
      int bits = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
      out.writeByte(bits >> 16);
      if (padding < 2) {
        out.writeByte(bits >> 8);
      }
      if (padding < 1) {
        out.writeByte(bits);
      }
      held = 0;
      padding = 0;
    }

    private static int value(int c) {
      if (c >= 'A' && c <= 'Z') {
        return c - 'A';
      }
      if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
      }
      if (c >= '0' && c <= '9') {
        return c - '0' + 52;
      }
      if (c == '+' || c == '-') {
        return 62;
      }
      if (c == '/' || c == '_') {
        return 63;
      }
      throw new IllegalArgumentException("not base64: 0x" + Integer.toHexString(c));
    }
  }
}
