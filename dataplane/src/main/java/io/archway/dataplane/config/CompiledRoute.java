package io.archway.dataplane.config;

import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.archway.model.Route;

/**
 * A route's runtime form: where its traffic goes and with what settings, resolved from the route
 * and its service once per change.
 *
 * @param upstream the inline upstream (the route's or its service's), or {@code null}
 * @param upstreamKey the key of the named upstream ({@code upstreams/<id>}) when not inline
 * @param websocket whether upgrades to WebSocket are proxied
 * @param connectMillis the route's own timeout, or {@code -1} for the upstream's
 * @param plugins the route's plugins merged with its service's and its plugin config's
 * @param flowId the stored plugin flow it runs ({@code plugin_flow_id}), or {@code null}
 * @param flow its inline plugin flow ({@code plugin_flow}), or {@code null}
 * @param handler what serves its requests once the plugins let them through, chosen here from its
 *     upstream and {@code enable_websocket}
 */
public record CompiledRoute(
    String id,
    Route route,
    UpstreamRuntime upstream,
    String upstreamKey,
    boolean websocket,
    long connectMillis,
    long sendMillis,
    long readMillis,
    HttpRouteStats stats,
    PluginChain plugins,
    String flowId,
    CompiledFlow flow,
    Handler handler) {

  /** The kinds of route handler; the server gives the pipeline one implementation of each. */
  public enum Handler {
    /** Proxied to HTTP nodes. */
    HTTP,
    /** Proxied to HTTP nodes, WebSocket upgrades tunnelled ({@code enable_websocket}). */
    WEBSOCKET,
    /** Kafka pub-sub over WebSocket ({@code scheme: kafka}). */
    PUBSUB;

    /** The handler for requests to {@code upstream} ({@code null}: not known yet). */
    public static Handler of(UpstreamRuntime upstream, boolean websocket) {
      if (upstream != null && "kafka".equals(upstream.config().scheme())) {
        return PUBSUB;
      }
      return websocket ? WEBSOCKET : HTTP;
    }
  }

  public CompiledRoute(
      String id,
      Route route,
      UpstreamRuntime upstream,
      String upstreamKey,
      boolean websocket,
      long connectMillis,
      long sendMillis,
      long readMillis,
      HttpRouteStats stats,
      PluginChain plugins,
      String flowId,
      CompiledFlow flow) {
    this(
        id,
        route,
        upstream,
        upstreamKey,
        websocket,
        connectMillis,
        sendMillis,
        readMillis,
        stats,
        plugins,
        flowId,
        flow,
        Handler.of(upstream, websocket));
  }

  /**
   * The handler for a request that goes to {@code to}: the one chosen at compile time when that is
   * the route's inline upstream. A named upstream (or one a plugin chose) can change its scheme
   * without the route being compiled again, so its handler comes from it (each upstream version is
   * immutable).
   */
  public Handler handlerFor(UpstreamRuntime to) {
    return to == upstream ? handler : Handler.of(to, websocket);
  }
}
