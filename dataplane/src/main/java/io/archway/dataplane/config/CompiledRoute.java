package io.archway.dataplane.config;

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
    CompiledFlow flow) {}
