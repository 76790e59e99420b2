package io.archway.dataplane.http;

import io.archway.dataplane.pipeline.HttpProxy;
import io.archway.dataplane.pipeline.RouteCall;
import io.archway.dataplane.pipeline.RouteHandler;

/**
 * The route handler of routes with {@code enable_websocket}: an upgrade request on an HTTP/1.1
 * connection becomes a {@link WebSocketTunnel}; any other request is proxied as on any route.
 */
public final class WebSocketProxy implements RouteHandler {

  private final HttpProxy http;

  public WebSocketProxy(HttpProxy http) {
    this.http = http;
  }

  @Override
  public void serve(RouteCall call) {
    if (!http.admit(call)) {
      return;
    }
    var connection = call.downstream().connection();
    if (connection == null || !WebSocketTunnel.isUpgrade(call.exchange().request())) {
      http.proxy(call);
      return;
    }
    new WebSocketTunnel(call, connection).start();
  }
}
