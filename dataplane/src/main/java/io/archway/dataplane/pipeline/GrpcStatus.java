package io.archway.dataplane.pipeline;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * gRPC's view of a request and of the gateway's answers to it: whether a request is gRPC, its
 * {@code grpc-timeout}, and the status codes that replace HTTP error answers (gRPC clients read the
 * {@code grpc-status} trailer, not the HTTP status; see the gRPC "HTTP to gRPC status code
 * mapping").
 */
final class GrpcStatus {

  static final int OK = 0;
  static final int UNKNOWN = 2;
  static final int DEADLINE_EXCEEDED = 4;
  static final int PERMISSION_DENIED = 7;
  static final int RESOURCE_EXHAUSTED = 8;
  static final int UNIMPLEMENTED = 12;
  static final int INTERNAL = 13;
  static final int UNAVAILABLE = 14;
  static final int UNAUTHENTICATED = 16;

  static final String CONTENT_TYPE = "application/grpc";
  static final String STATUS = "grpc-status";
  static final String MESSAGE = "grpc-message";
  private static final String TIMEOUT = "grpc-timeout";

  private GrpcStatus() {}

  /**
   * Whether {@code request} is gRPC over HTTP/2: {@code application/grpc}, alone or with a subtype
   * ({@code +proto}) or parameters. gRPC-Web ({@code application/grpc-web}) is not.
   */
  static boolean isGrpc(HttpRequest request) {
    var type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (type == null || !type.regionMatches(true, 0, CONTENT_TYPE, 0, CONTENT_TYPE.length())) {
      return false;
    }
    if (type.length() == CONTENT_TYPE.length()) {
      return true;
    }
    char c = type.charAt(CONTENT_TYPE.length());
    return c == '+' || c == ';';
  }

  /**
   * The status for a gateway answer of {@code httpStatus} to a gRPC request; {@code byPlugin}: a
   * plugin refused it (a 503 from a limit is RESOURCE_EXHAUSTED, the gateway's own 503 is
   * UNAVAILABLE).
   */
  static int fromHttp(int httpStatus, boolean byPlugin) {
    return switch (httpStatus) {
      case 400 -> INTERNAL;
      case 401 -> UNAUTHENTICATED;
      case 403 -> PERMISSION_DENIED;
      case 404 -> UNIMPLEMENTED;
      case 408 -> DEADLINE_EXCEEDED;
      case 413, 429 -> RESOURCE_EXHAUSTED;
      case 503 -> byPlugin ? RESOURCE_EXHAUSTED : UNAVAILABLE;
      case 502, 504 -> UNAVAILABLE;
      default -> httpStatus < 400 ? OK : UNKNOWN;
    };
  }

  /** Sets the status fields ({@code grpc-message} percent-encoded as gRPC asks). */
  static void set(HttpHeaders headers, int status, String message) {
    headers.set(STATUS, Integer.toString(status));
    if (message != null && !message.isEmpty()) {
      headers.set(MESSAGE, percentEncode(message));
    }
  }

  static String percentEncode(String message) {
    var bytes = message.getBytes(StandardCharsets.UTF_8);
    var out = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /**
   * The request's deadline from {@code grpc-timeout} (1 to 8 digits and a unit: H, M, S, m, u, n)
   * as a {@link System#nanoTime()} reading counted from {@code startNanos}, or {@code 0} when it
   * has none (a malformed value is ignored: the client still enforces its own deadline).
   */
  static long deadline(HttpRequest request, long startNanos) {
    var value = request.headers().get(TIMEOUT);
    if (value == null || value.length() < 2 || value.length() > 9) {
      return 0;
    }
    long amount = 0;
    for (int i = 0; i < value.length() - 1; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      amount = amount * 10 + (c - '0');
    }
    var unit =
        switch (value.charAt(value.length() - 1)) {
          case 'H' -> TimeUnit.HOURS;
          case 'M' -> TimeUnit.MINUTES;
          case 'S' -> TimeUnit.SECONDS;
          case 'm' -> TimeUnit.MILLISECONDS;
          case 'u' -> TimeUnit.MICROSECONDS;
          case 'n' -> TimeUnit.NANOSECONDS;
          default -> null;
        };
    if (unit == null) {
      return 0;
    }
    long d = startNanos + Math.min(unit.toNanos(amount), 1L << 62);
    return d == 0 ? 1 : d;
  }
}
