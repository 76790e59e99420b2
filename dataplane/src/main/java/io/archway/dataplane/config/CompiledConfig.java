package io.archway.dataplane.config;

import io.archway.dataplane.route.Router;
import io.archway.dataplane.stream.CompiledStream;
import io.archway.dataplane.stream.StreamRoutes;
import io.archway.dataplane.upstream.UpstreamRuntime;
import java.util.Map;

/**
 * The config compiled for traffic: the HTTP router, the stream routes and every upstream runtime.
 * Immutable and swapped whole; a request uses the one it started with from start to end.
 */
public record CompiledConfig(
    Router<CompiledRoute> router,
    StreamRoutes streams,
    Map<String, UpstreamRuntime> upstreams,
    long revision) {

  public static final CompiledConfig EMPTY =
      new CompiledConfig(Router.empty(), StreamRoutes.EMPTY, Map.of(), 0);

  /** The upstream the route sends to, or {@code null} when it names one that does not exist. */
  public UpstreamRuntime upstreamOf(CompiledRoute r) {
    return r.upstream() != null ? r.upstream() : upstreams.get(r.upstreamKey());
  }

  /** The upstream the stream route sends to, or {@code null} when it names one that is missing. */
  public UpstreamRuntime upstreamOf(CompiledStream r) {
    return r.upstream() != null ? r.upstream() : upstreams.get(r.upstreamKey());
  }
}
