package io.archway.dataplane.exchange;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The whole request body for the plugins that decide on it (request-validation's {@code
 * body_schema}, hmac-auth's {@code validate_request_body}, forward-auth's POST), as a value: the
 * bytes, or the answer owed. The read itself is the exchange's ({@link Exchange#readBody}), the one
 * the AI plugins use too: once per request however many plugins ask, bounded, kept as a heap copy,
 * and what the proxy then sends.
 */
public final class RequestBody {

  private RequestBody() {}

  /**
   * The body read, or why not: {@code status} 0 with the bytes, else the answer owed (413 over the
   * bound, 408 not sent in time, 400 broken framing, 499 the client left).
   */
  public record Body(byte[] bytes, int status) {
    public boolean ok() {
      return status == 0;
    }
  }

  /** nginx's {@code client_body_timeout} order of time: the most a body may take to arrive. */
  static final long TIMEOUT_MILLIS = TimeUnit.SECONDS.toMillis(60);

  /** The body of {@code exchange}, read on its event loop up to {@code max} bytes. */
  public static CompletionStage<Body> read(Exchange exchange, int max) {
    return exchange
        .readBody(max, TIMEOUT_MILLIS)
        .thenApply(r -> r instanceof byte[] b ? new Body(b, 0) : new Body(null, (Integer) r));
  }

  /**
   * Replaces the body a plugin read with {@code body} (request-validation's JSON as it checked it):
   * the proxy sends these bytes instead, with their length.
   */
  public static void replace(Exchange exchange, byte[] body) {
    exchange.body(body);
  }
}
