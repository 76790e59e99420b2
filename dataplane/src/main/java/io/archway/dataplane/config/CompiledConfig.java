package io.archway.dataplane.config;

import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.route.Router;
import io.archway.dataplane.tls.ServerCertificates;
import io.archway.dataplane.upstream.UpstreamRuntime;
import java.net.InetAddress;
import java.util.Map;

/**
 * The config compiled for traffic: the HTTP router, the stream routes, every upstream runtime, the
 * global rules' plugins, the consumers, the stored plugin flows, the HTTPS certificates and the
 * ports the {@code listeners} objects open. Immutable and swapped whole; a request uses the one it
 * started with from start to end.
 */
public record CompiledConfig(
    Router<CompiledRoute> router,
    StreamRoutes streams,
    Map<String, UpstreamRuntime> upstreams,
    PluginChain global,
    Consumers consumers,
    Map<String, CompiledFlow> flows,
    ServerCertificates certificates,
    CompiledListeners listeners,
    long revision) {

  public static final CompiledConfig EMPTY =
      new CompiledConfig(
          Router.empty(),
          StreamRoutes.EMPTY,
          Map.of(),
          PluginChain.EMPTY,
          Consumers.EMPTY,
          Map.of(),
          ServerCertificates.EMPTY,
          CompiledListeners.EMPTY,
          0);

  /**
   * The flow the route runs: its inline one, else the stored one it names; {@code null} when it
   * names one that is missing or invalid.
   */
  public CompiledFlow flowOf(CompiledRoute r) {
    return r.flow() != null ? r.flow() : r.flowId() == null ? null : flows.get(r.flowId());
  }

  /** The upstream the route sends to, or {@code null} when it names one that does not exist. */
  public UpstreamRuntime upstreamOf(CompiledRoute r) {
    return r.upstream() != null ? r.upstream() : upstreams.get(r.upstreamKey());
  }

  /** The upstream the stream route sends to, or {@code null} when it names one that is missing. */
  public UpstreamRuntime upstreamOf(CompiledStream r) {
    return r.upstream() != null ? r.upstream() : upstreams.get(r.upstreamKey());
  }

  /** The stream route of a TCP connection or a UDP session ({@code udp}), or {@code null}. */
  public CompiledStream streamRoute(
      int serverPort, InetAddress client, InetAddress local, boolean udp) {
    return streams.match(serverPort, client, local, udp, this::schemeOf);
  }

  /** The stream route of a TLS passthrough connection by its server name, or {@code null}. */
  public CompiledStream streamRouteBySni(
      int serverPort, String sni, InetAddress client, InetAddress local) {
    return streams.matchSni(serverPort, sni, client, local, this::schemeOf);
  }

  private String schemeOf(CompiledStream r) {
    var upstream = upstreamOf(r);
    return upstream == null ? null : upstream.scheme();
  }
}
