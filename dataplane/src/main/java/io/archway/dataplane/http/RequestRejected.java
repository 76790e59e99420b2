package io.archway.dataplane.http;

/**
 * A request the gateway refuses before it is routed: its framing is ambiguous or its syntax is not
 * HTTP's. The client is answered with {@link #status()} and the connection is closed. Clients that
 * probe throw these often, so it carries no stack trace.
 */
final class RequestRejected extends RuntimeException {

  private final int status;
  private final String error;

  /**
   * @param error the metric's {@code error} label: a short fixed name, never client text
   * @param detail what was wrong, for the debug log
   */
  RequestRejected(int status, String error, String detail) {
    super(detail, null, false, false);
    this.status = status;
    this.error = error;
  }

  /** A 400 for a request that is not well-formed HTTP/1.1. */
  static RequestRejected malformed(String detail) {
    return new RequestRejected(400, "bad_request", detail);
  }

  /** A 400 for a request whose body framing could be read two ways. */
  static RequestRejected ambiguous(String detail) {
    return new RequestRejected(400, "ambiguous_framing", detail);
  }

  int status() {
    return status;
  }

  String error() {
    return error;
  }
}
