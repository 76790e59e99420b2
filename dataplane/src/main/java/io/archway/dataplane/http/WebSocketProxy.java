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
  private final WebSocketTunnels tunnels;

  /** {@code tunnels}: where the tunnels opened here are kept until they close. */
  public WebSocketProxy(HttpProxy http, WebSocketTunnels tunnels) {
    this.http = http;
    this.tunnels = tunnels;
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
    new WebSocketTunnel(call, connection, tunnels).start();
  }
}
