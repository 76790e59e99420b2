package io.archway.dataplane.config.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;

/** xDS TLS resources as istiod sends them to a gateway, for the tests of SDS and mTLS. */
final class XdsTlsFixtures {

  private XdsTlsFixtures() {}

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
