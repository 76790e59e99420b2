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
 * Reads a request's whole body for a plugin that needs it before the request goes on (the AI
 * plugins merge fields into a JSON body), bounded by a size and a time: pulls it piece by piece as
 * the proxy would, copies each piece and releases it at once, so nothing is left to free whichever
 * way the read ends. On the request's event loop only.
 */
final class RequestBodyReader {

  private final Exchange exchange;
  private final long max;
  private final long timeoutMillis;
  private final CompletableFuture<Object> result = new CompletableFuture<>();
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  // Over max, stop and keep what was read for the proxy (Exchange.peekBody) instead of a 413.
  private final boolean peek;
  private ScheduledFuture<?> timeout;

  /** The read's answer when a peek went over its bound: the bytes read wait as a prefix. */
  static final Object OVER = new Object();

  RequestBodyReader(Exchange exchange, long max, long timeoutMillis) {
    this(exchange, max, timeoutMillis, false);
  }

  RequestBodyReader(Exchange exchange, long max, long timeoutMillis, boolean peek) {
    this.exchange = exchange;
    this.max = max;
    this.timeoutMillis = timeoutMillis;
    this.peek = peek;
    var prefix = exchange.takeBodyPrefix();
    if (prefix != null) {
      // A peek read these before (and stopped): the whole body starts with them.
      bytes.writeBytes(prefix);
    }
  }

  /** The body ({@code byte[]}), or the status to answer ({@code Integer}). */
  CompletionStage<Object> result() {
    return result;
  }

  /** Bytes read so far. */
  int size() {
    return bytes.size();
  }

  void start() {
    var req = exchange.request();
    var d = exchange.downstream();
    if (max > 0 && HttpUtil.getContentLength(req, -1L) > max) {
      if (peek) {
        over();
        return;
      }
      end(413);
      return;
    }
    if (HttpUtil.is100ContinueExpected(req)) {
      // The gateway wants the body now, so it answers the expectation itself.
      req.headers().remove(HttpHeaderNames.EXPECT);
      d.sendContinue();
    }
    if (timeoutMillis > 0) {
      timeout = d.eventLoop().schedule(() -> end(408), timeoutMillis, TimeUnit.MILLISECONDS);
    }
    d.pullBody();
  }

  void onContent(HttpContent c) {
    try {
      if (result.isDone()) {
        return;
      }
      var content = c.content();
      if (max > 0 && bytes.size() + (long) content.readableBytes() > max) {
        if (peek) {
          content.readBytes(bytes, content.readableBytes());
          if (!(c instanceof LastHttpContent)) {
            over();
            return;
          }
          // The last piece: the body is whole after all, if over the bound.
        } else {
          end(413);
          return;
        }
      } else {
        content.readBytes(bytes, content.readableBytes());
      }
    } catch (java.io.IOException e) {
      // A ByteArrayOutputStream does not fail.
      throw new IllegalStateException(e);
    } finally {
      c.release();
    }
    if (c instanceof LastHttpContent) {
      end(null);
    } else {
      exchange.downstream().pullBody();
    }
  }

  void onBodyBroken(int status) {
    end(status);
  }

  void onClosed() {
    end(499);
  }

  /**
   * A peek over its bound: what was read waits on the exchange for whoever reads the body next (the
   * proxy sends it first, then pulls the rest), and the read answers {@link #OVER}.
   */
  private void over() {
    if (result.isDone()) {
      return;
    }
    if (timeout != null) {
      timeout.cancel(false);
    }
    exchange.bodyRead(null);
    if (bytes.size() > 0) {
      exchange.bodyPrefix(bytes.toByteArray());
    }
    result.complete(OVER);
  }

  /** {@code status == null}: the body is whole. */
  private void end(Integer status) {
    if (result.isDone()) {
      return;
    }
    if (timeout != null) {
      timeout.cancel(false);
    }
    if (status == null) {
      var whole = bytes.toByteArray();
      exchange.bodyRead(whole);
      result.complete(whole);
      return;
    }
    exchange.bodyRead(null);
    // What is left of the body cannot be skipped safely: the connection ends with the answer.
    exchange.downstream().closeAfterResponse();
    result.complete(status);
  }
}
