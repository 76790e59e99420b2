package io.archway.dataplane.pipeline;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The route handler that proxies a request to an HTTP node ({@link ProxyCall}), after the checks
 * every proxied request passes (the WebSocket handler runs them too, through {@link #admit}).
 */
public final class HttpProxy implements RouteHandler {

  @Override
  public void serve(RouteCall call) {
    if (admit(call)) {
      proxy(call);
    }
  }

  /**
   * Refuses what must not reach a node: a declared body over {@code client_max_body_size} (413), a
   * target or field a plugin filled with CR, LF or NUL (400); both close the connection. Takes
   * {@code Expect: 100-continue} off the request (the gateway answers it). Returns whether the
   * request may go on.
   */
  public boolean admit(RouteCall call) {
    var req = call.exchange().request();
    var d = call.downstream();
    long max = maxBodySize(call);
    if (max > 0 && HttpUtil.getContentLength(req, -1L) > max) {
      call.pipeline().metrics().error("body_too_large");
      d.closeAfterResponse();
      call.respondError(413);
      return false;
    }
    if (call.hasPlugins() && !OutboundCheck.requestSafe(req.uri(), req.headers())) {
      // A plugin filled the path or a field from a variable holding CR, LF or NUL.
      call.pipeline().metrics().error("unsafe_rewrite");
      d.closeAfterResponse();
      call.respondError(400);
      return false;
    }
    if (HttpUtil.is100ContinueExpected(req)) {
      req.headers().remove(HttpHeaderNames.EXPECT);
      call.expectContinue(true);
    }
    return true;
  }

  /** {@code client_max_body_size}, or what a plugin set for this request (client-control). */
  static long maxBodySize(RouteCall call) {
    long own = call.exchange().maxBodySize();
    return own >= 0 ? own : call.pipeline().limits().maxBodySize();
  }

  /** Proxies an admitted request. */
  public void proxy(RouteCall call) {
    new ProxyCall(call).start();
  }
}
