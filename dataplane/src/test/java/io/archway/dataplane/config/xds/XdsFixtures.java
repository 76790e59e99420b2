package io.archway.dataplane.config.xds;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** xDS resources as istiod sends them to a gateway (TLS ones above all), and a gateway on them. */
final class XdsFixtures {

  private XdsFixtures() {}

  /** A dataplane taking its config from the xDS server on {@code xdsPort}, once it has one. */
  static Dataplane gateway(int xdsPort) throws Exception {
    return gateway(xdsPort, null);
  }

  /** As above, with Istio's agent's SDS server at {@code sds} ({@code --xds-sds}), or none. */
  static Dataplane gateway(int xdsPort, String sds) throws Exception {
    var node = XdsNode.of(null, null, Map.of("POD_NAME", "gw-1", "POD_NAMESPACE", "istio-system"));
    var options =
        DataplaneOptions.standaloneOnLoopback(Path.of("unused.yaml"))
            .withXds(
                new XdsConfigSource.Settings(
                    "127.0.0.1:" + xdsPort,
                    node,
                    Duration.ofMillis(50),
                    Duration.ofMillis(500),
                    XdsConfigSource.Protocol.SOTW,
                    Duration.ofSeconds(15),
                    sds));
    var dataplane = new Dataplane(options).start();
    await().atMost(Duration.ofSeconds(20)).until(() -> dataplane.config().loaded());
    return dataplane;
  }

  /** A listener whose chain's HTTP connection manager takes route configuration {@code rds}. */
  static Listener listener(String name, FilterChain.Builder chain, String rds) {
    var hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(Rds.newBuilder().setRouteConfigName(rds).setConfigSource(ads()))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName(name)
        .addFilterChains(
            chain.addFilters(
                Filter.newBuilder()
                    .setName("envoy.filters.network.http_connection_manager")
                    .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  static LbEndpoint.Builder endpoint(String ip, int port) {
    return LbEndpoint.newBuilder()
        .setEndpoint(
            Endpoint.newBuilder()
                .setAddress(
                    Address.newBuilder()
                        .setSocketAddress(
                            SocketAddress.newBuilder().setAddress(ip).setPortValue(port))));
  }

  static ConfigSource ads() {
    return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();
  }

  /** Istio's local SDS server in its agent (cluster sds-grpc), which Archway has none of. */
  static ConfigSource agent() {
    return ConfigSource.newBuilder()
        .setApiConfigSource(
            ApiConfigSource.newBuilder()
                .setApiType(ApiConfigSource.ApiType.GRPC)
                .addGrpcServices(
                    GrpcService.newBuilder()
                        .setEnvoyGrpc(
                            GrpcService.EnvoyGrpc.newBuilder().setClusterName("sds-grpc"))))
        .build();
  }

  static SdsSecretConfig sds(String name, ConfigSource source) {
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(source).build();
  }

  /**
   * ISTIO_MUTUAL towards a service: the workload certificate {@code default} and root {@code
   * ROOTCA} by SDS from {@code source}, the service accounts' SPIFFE names, Istio's ALPN and SNI.
   */
  static UpstreamTlsContext istioMutual(ConfigSource source, String sni, String... spiffeIds) {
    var validation = CertificateValidationContext.newBuilder();
    for (var id : spiffeIds) {
      validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(id));
    }
    return UpstreamTlsContext.newBuilder()
        .setSni(sni)
        .setCommonTlsContext(
            CommonTlsContext.newBuilder()
                // As istiod writes it (defaultUpstreamCommonTLSContext): TLS 1.2 to 1.3.
                .setTlsParams(
                    io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters
                        .newBuilder()
                        .setTlsMinimumProtocolVersion(
                            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters
                                .TlsProtocol.TLSv1_2)
                        .setTlsMaximumProtocolVersion(
                            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters
                                .TlsProtocol.TLSv1_3))
                .addTlsCertificateSdsSecretConfigs(sds("default", source))
                .setCombinedValidationContext(
                    CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                        .setDefaultValidationContext(validation)
                        .setValidationContextSdsSecretConfig(sds("ROOTCA", source)))
                .addAlpnProtocols("istio-peer-exchange")
                .addAlpnProtocols("istio"))
        .build();
  }

  static TransportSocket tls(com.google.protobuf.Message context) {
    return TransportSocket.newBuilder()
        .setName("envoy.transport_sockets.tls")
        .setTypedConfig(Any.pack(context))
        .build();
  }

  /** Istio's auto mTLS: TLS to endpoints labelled tlsMode: istio, plaintext to the others. */
  static List<Cluster.TransportSocketMatch> istioMatches(UpstreamTlsContext context) {
    return List.of(
        Cluster.TransportSocketMatch.newBuilder()
            .setName("tlsMode-istio")
            .setMatch(tlsModeIstio())
            .setTransportSocket(tls(context))
            .build(),
        Cluster.TransportSocketMatch.newBuilder()
            .setName("tlsMode-disabled")
            .setMatch(Struct.getDefaultInstance())
            .setTransportSocket(
                TransportSocket.newBuilder()
                    .setName("envoy.transport_sockets.raw_buffer")
                    .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance())))
            .build());
  }

  static Struct tlsModeIstio() {
    return Struct.newBuilder()
        .putFields("tlsMode", Value.newBuilder().setStringValue("istio").build())
        .build();
  }

  /** An endpoint's metadata saying it has a sidecar. */
  static Metadata sidecar() {
    return Metadata.newBuilder()
        .putFilterMetadata("envoy.transport_socket_match", tlsModeIstio())
        .build();
  }

  /** A gateway server's certificate by SDS ({@code kubernetes://<credentialName>}). */
  static DownstreamTlsContext gatewayServer(String secret) {
    return DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(
            CommonTlsContext.newBuilder().addTlsCertificateSdsSecretConfigs(sds(secret, ads())))
        .build();
  }

  static Secret certificateSecret(String name, String chain, String key) {
    return Secret.newBuilder()
        .setName(name)
        .setTlsCertificate(
            TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineString(chain))
                .setPrivateKey(DataSource.newBuilder().setInlineString(key)))
        .build();
  }

  static Secret authoritySecret(String name, String ca) {
    return Secret.newBuilder()
        .setName(name)
        .setValidationContext(
            CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineString(ca)))
        .build();
  }
}
