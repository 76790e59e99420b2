package io.archway.dataplane.exchange;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The whole request body, read before the request goes upstream for the plugins that decide on it
 * (request-validation's {@code body_schema}, hmac-auth's {@code validate_request_body},
 * forward-auth's POST): read once per request however many plugins ask, up to a bound, and kept as
 * a heap copy, so nothing is left to release when the exchange ends before the proxy takes it. The
 * proxy then gets it as the body's one piece ({@link Exchange#pullBody()}). The client's trailers
 * are not kept.
 *
 * <p>While it reads, it is the exchange's listener: the client leaving, or writable again, is
 * passed on to the listener it replaced, which it puts back when done.
 */
public final class RequestBody implements Exchange.Listener {

  /**
   * The body read, or why not: {@code status} 0 with the bytes, else the answer owed (413 over the
   * bound, 408 not sent in time, 400 broken framing, 499 the client left).
   */
  public record Body(byte[] bytes, int status) {
    public boolean ok() {
      return status == 0;
    }
  }

  private static final Exchange.Key<CompletableFuture<Body>> KEY =
      new Exchange.Key<>("request-body");

  /** nginx's {@code client_body_timeout}: the most a client may pause while sending the body. */
  static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final Exchange exchange;
  private final int max;
  private final CompletableFuture<Body> done = new CompletableFuture<>();
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private Exchange.Listener replaced;
  private long lastActivity;
  private ScheduledFuture<?> timer;

  private RequestBody(Exchange exchange, int max) {
    this.exchange = exchange;
    this.max = max;
  }

  /**
   * The body of {@code exchange}, read on its event loop up to {@code max} bytes; the same stage
   * for every plugin asking (the first one's bound holds).
   */
  public static CompletionStage<Body> read(Exchange exchange, int max) {
    var known = exchange.attribute(KEY);
    if (known != null) {
      return known;
    }
    var r = new RequestBody(exchange, max);
    exchange.attribute(KEY, r.done);
    r.start();
    return r.done;
  }

  /**
   * Replaces the body a plugin read with {@code body} (request-validation's JSON as it checked it):
   * the proxy sends these bytes instead, with their length.
   */
  public static void replace(Exchange exchange, byte[] body) {
    exchange.holdBody(body);
    var h = exchange.request().headers();
    if (h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    }
  }

  private void start() {
    var req = exchange.request();
    if (HttpUtil.getContentLength(req, -1L) > max) {
      // Refused before a byte is read; the body must not be taken for the next request.
      exchange.downstream().closeAfterResponse();
      done.complete(new Body(null, 413));
      return;
    }
    if (HttpUtil.is100ContinueExpected(req)) {
      // The body is wanted now: answer the expectation here (the proxy will not see it again).
      req.headers().remove(HttpHeaderNames.EXPECT);
      exchange.downstream().sendContinue();
    }
    replaced = exchange.listener();
    exchange.listener(this);
    lastActivity = System.nanoTime();
    timer =
        exchange.downstream().eventLoop().schedule(this::idle, IDLE_NANOS, TimeUnit.NANOSECONDS);
    exchange.downstream().pullBody();
  }

  private void idle() {
    if (done.isDone()) {
      return;
    }
    long left = lastActivity + IDLE_NANOS - System.nanoTime();
    if (left > 0) {
      timer = exchange.downstream().eventLoop().schedule(this::idle, left, TimeUnit.NANOSECONDS);
      return;
    }
    refuse(408);
  }

  @Override
  public void onContent(HttpContent content) {
    if (done.isDone()) {
      content.release();
      return;
    }
    lastActivity = System.nanoTime();
    var buf = content.content();
    boolean last = content instanceof LastHttpContent;
    if (bytes.size() + (long) buf.readableBytes() > max) {
      content.release();
      refuse(413);
      return;
    }
    var b = new byte[buf.readableBytes()];
    buf.getBytes(buf.readerIndex(), b);
    bytes.writeBytes(b);
    content.release();
    if (last) {
      var body = bytes.toByteArray();
      end();
      exchange.holdBody(body);
      done.complete(new Body(body, 0));
    } else {
      exchange.downstream().pullBody();
    }
  }

  /** The body cannot be taken: the answer owed, and the connection closes after it. */
  private void refuse(int status) {
    end();
    exchange.downstream().closeAfterResponse();
    done.complete(new Body(null, status));
  }

  private void end() {
    exchange.listener(replaced);
    if (timer != null) {
      timer.cancel(false);
    }
  }

  @Override
  public void onBodyBroken(int status) {
    if (!done.isDone()) {
      refuse(status);
    }
  }

  @Override
  public void onWritable() {
    if (replaced != null) {
      replaced.onWritable();
    }
  }

  @Override
  public void onClosed() {
    if (!done.isDone()) {
      end();
      done.complete(new Body(null, 499));
    }
    if (replaced != null) {
      replaced.onClosed();
    }
  }
}
