package io.archway.dataplane.pipeline;

/**
 * What serves a request once its route's plugins let it through: the HTTP proxy, the WebSocket
 * tunnel, Kafka pub-sub (later gRPC). Each route's kind of handler is chosen when the config is
 * compiled ({@code CompiledRoute.Handler}); the server gives the pipeline one implementation per
 * kind. A handler answers through the call ({@link RouteCall#respond}, {@link RouteCall#finished})
 * and, while it streams, hears the client's side by {@link RouteCall#serve}.
 */
public interface RouteHandler {

  /**
   * Serves the request: the call has its route and the upstream picked ({@link
   * RouteCall#upstream}).
   */
  void serve(RouteCall call);
}
