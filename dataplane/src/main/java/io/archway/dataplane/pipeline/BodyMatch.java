package io.archway.dataplane.pipeline;

import io.archway.dataplane.config.CompiledConfig;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.route.BodyValues;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The match step's second half, for a request whose next route to try matches on the body ({@code
 * post_arg.*}, see {@code route/Router.match}): the body is read (bounded, {@link
 * Exchange#peekBody}), its fields given to the request's variables, and the route matched again
 * under the same config, from the first route on (the body route may not match, and the next one
 * may be one with no body condition). What the body cannot give is the absence of every field, so a
 * body condition is false, never an error, as in APISIX:
 *
 * <ul>
 *   <li>no body, or a content type that has no fields (not JSON, urlencoded or multipart): not read
 *       at all;
 *   <li>declared longer than the bound: not read; found longer on the way: read up to the bound and
 *       no further, and the proxy sends what was read, then streams the rest;
 *   <li>a body that does not parse (JSON, multipart): no fields.
 * </ul>
 *
 * A body read whole goes upstream as read, with its {@code Content-Length}. The client's failures
 * while it is read are answered as any body read's: 408 past {@code client_body_timeout}, 400 for
 * broken framing (the connection closes after both), nothing when it left.
 */
final class BodyMatch {

  private static final Logger log = LoggerFactory.getLogger(BodyMatch.class);

  /** The most a body is read for matching: the plugins' whole-body bound. */
  static final long MAX = 8L << 20;

  private static final AtomicLong lastOverLog = new AtomicLong();

  private BodyMatch() {}

  static void read(Pipeline pipeline, RouteCall call, CompiledConfig compiled) {
    var ex = call.exchange();
    var vars = ex.vars();
    var req = ex.request();
    var contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
    long max = bound(pipeline.limits());
    if (!hasBody(req) || BodyValues.kindOf(contentType) == null) {
      vars.bodyValues(BodyValues.NONE);
      pipeline.routed(call, compiled, compiled.router().match(vars));
      return;
    }
    if (HttpUtil.getContentLength(req, -1L) > max) {
      over(pipeline, max);
      vars.bodyValues(BodyValues.NONE);
      pipeline.routed(call, compiled, compiled.router().match(vars));
      return;
    }
    long timeout = pipeline.limits().clientBodyTimeout().toMillis();
    ex.peekBody(max, timeout > 0 ? timeout : TimeUnit.SECONDS.toMillis(60))
        .thenAccept(
            r -> {
              try {
                if (r instanceof Integer status) {
                  if (status != 499) {
                    // The reader closes the connection after this answer.
                    pipeline.metrics().error(status == 408 ? "body_timeout" : "body_broken");
                    call.respondError(status);
                  }
                  return;
                }
                if (r == Exchange.OVER) {
                  over(pipeline, max);
                  vars.bodyValues(BodyValues.NONE);
                } else {
                  vars.bodyValues(BodyValues.parse(contentType, (byte[]) r));
                }
                pipeline.routed(call, compiled, compiled.router().match(vars));
              } catch (RuntimeException e) {
                // Nothing above the completion would see it (the stage swallows it).
                log.error("request {}: matching on its body failed", req.uri(), e);
                ex.downstream().close();
              }
            });
  }

  /** The bound of a body read for matching: 8 MiB, or {@code client_max_body_size} if lower. */
  static long bound(RequestLimits limits) {
    long clientMax = limits.maxBodySize();
    return clientMax > 0 ? Math.min(clientMax, MAX) : MAX;
  }

  /** Whether the request has a body by its framing (HTTP/2's is given the same way). */
  static boolean hasBody(HttpRequest req) {
    return HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0;
  }

  private static void over(Pipeline pipeline, long max) {
    pipeline.metrics().error("route_body_over_limit");
    long now = System.nanoTime();
    long last = lastOverLog.get();
    if (now - last > TimeUnit.SECONDS.toNanos(10) && lastOverLog.compareAndSet(last, now)) {
      log.info(
          "a request body over {} bytes was not read for post_arg matching (its fields are"
              + " absent); logged at most every 10 s, counted in archway_http_errors_total",
          max);
    }
  }
}
