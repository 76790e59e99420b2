package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.archway.dataplane.testing.Pki;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Ssl;
import io.archway.model.Upstream;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.PrivateKeyProvider;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.netty.pkitesting.X509Bundle;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TLS from xDS (SDS secrets, Istio's mTLS, gateway certificates) into the model, and the NACKs. */
class XdsTlsTest {

  private static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  private static final String SNI = "outbound_.9080_._.reviews.default.svc.cluster.local";
  private static final String SPIFFE = "spiffe://cluster.local/ns/default/sa/bookinfo-reviews";

  static X509Bundle ca;
  static X509Bundle workload;
  static Map<String, XdsSecrets.SecretPem> secrets;

  @BeforeAll
  static void certificates() throws Exception {
    ca = Pki.authority("Mesh CA");
    workload = Pki.workload(ca, "spiffe://cluster.local/ns/istio-system/sa/archway");
    secrets =
        Map.of(
            "default",
            XdsSecrets.secret(
                certificateSecret("default", Pki.chainPem(workload), Pki.keyPem(workload))),
            "ROOTCA",
            XdsSecrets.secret(authoritySecret("ROOTCA", ca.getCertificatePEM())));
  }

  @Test
  void istiosAutoMtlsBecomesTlsToTheSidecarsWithTheirSpiffeNames() throws Exception {
    var cluster =
        XdsTranslator.cluster(
            eds(REVIEWS)
                .addAllTransportSocketMatches(istioMatches(istioMutual(ads(), SNI, SPIFFE)))
                .build());
    var up = (Upstream) assemble(cluster, secrets).get(new Key(Kind.UPSTREAMS, upstreamId()));
    assertThat(up.scheme()).isEqualTo("https");
    var tls = up.tls();
    assertThat(tls.verify()).isTrue();
    assertThat(tls.sni()).isEqualTo(SNI);
    assertThat(tls.subjectAltNames())
        .containsExactly(new Upstream.SubjectAltName(null, SPIFFE, null));
    // Istio's istio.alpn filter names the protocol spoken to the sidecar.
    assertThat(tls.alpn()).containsExactly("istio-http/1.1");
    assertThat(tls.matchNodeMetadata()).isEqualTo(Map.of("tlsMode", "istio"));
    assertThat(tls.clientCert()).isEqualTo(Pki.chainPem(workload));
    assertThat(tls.clientKey()).isEqualTo(Pki.keyPem(workload));
    assertThat(tls.ca()).isEqualTo(ca.getCertificatePEM());
    // The sidecar's endpoint says tlsMode: istio; the other gets plaintext.
    var nodes = up.nodes().nodes();
    assertThat(tls.appliesTo(nodes.get(0).metadata())).isTrue();
    assertThat(tls.appliesTo(nodes.get(1).metadata())).isFalse();
  }

  @Test
  void aClusterWaitsForItsSecretsWithoutNodes() throws Exception {
    var cluster =
        XdsTranslator.cluster(
            eds(REVIEWS).setTransportSocket(tls(istioMutual(ads(), SNI, SPIFFE))).build());
    var up =
        (Upstream)
            assemble(cluster, Map.of("ROOTCA", secrets.get("ROOTCA")))
                .get(new Key(Kind.UPSTREAMS, upstreamId()));
    assertThat(up.nodes().nodes()).isEmpty();
    assertThat(up.desc()).endsWith("(warming: waiting for secret default)");
    assertThat(up.tls()).isNull();
    var resources = new XdsResources();
    resources.apply(
        XdsTranslator.CLUSTER,
        List.of(
            Any.pack(
                eds(REVIEWS).setTransportSocket(tls(istioMutual(ads(), SNI, SPIFFE))).build())));
    assertThat(resources.secretNames()).containsExactly("ROOTCA", "default");
  }

  @Test
  void typedNamesPrefixesAndInlineMaterial() throws Exception {
    var context =
        UpstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .addTlsCertificates(
                        TlsCertificate.newBuilder()
                            .setCertificateChain(inline(Pki.chainPem(workload)))
                            .setPrivateKey(inline(Pki.keyPem(workload))))
                    .setValidationContext(
                        CertificateValidationContext.newBuilder()
                            .setTrustedCa(inline(ca.getCertificatePEM()))
                            .addMatchTypedSubjectAltNames(
                                SubjectAltNameMatcher.newBuilder()
                                    .setSanType(SubjectAltNameMatcher.SanType.URI)
                                    .setMatcher(
                                        StringMatcher.newBuilder()
                                            .setPrefix("spiffe://cluster.local/ns/default/")))))
            .build();
    var up =
        (Upstream)
            assemble(
                    XdsTranslator.cluster(eds(REVIEWS).setTransportSocket(tls(context)).build()),
                    Map.of())
                .get(new Key(Kind.UPSTREAMS, upstreamId()));
    assertThat(up.tls().subjectAltNames())
        .containsExactly(
            new Upstream.SubjectAltName("uri", null, "spiffe://cluster.local/ns/default/"));
    assertThat(up.tls().clientCert()).isEqualTo(Pki.chainPem(workload));
    assertThat(up.tls().ca()).isEqualTo(ca.getCertificatePEM());
    assertThat(up.tls().matchNodeMetadata()).isNull();
    assertThat(up.tls().alpn()).isNull();
  }

  @Test
  void aGatewayServersCertificateBecomesAnSslsObjectForItsNames() throws Exception {
    var gateway = Pki.server(ca, false, "bookinfo.example.com");
    var listener =
        XdsTranslator.listener(
            httpsListener(
                List.of("bookinfo.example.com"), tls(gatewayServer("kubernetes://bookinfo-cred"))));
    assertThat(listener.servers()).hasSize(1);
    var credential =
        XdsSecrets.secret(
            certificateSecret(
                "kubernetes://bookinfo-cred", Pki.chainPem(gateway), Pki.keyPem(gateway)));
    var objects =
        XdsTranslator.assemble(
            Map.of("l", listener),
            Map.of(),
            Map.of(),
            Map.of(),
            Map.of("kubernetes://bookinfo-cred", credential));
    var ssl = (Ssl) objects.get(new Key(Kind.SSLS, listener.servers().get(0).id()));
    assertThat(ssl.snis()).containsExactly("bookinfo.example.com");
    assertThat(ssl.cert()).isEqualTo(Pki.chainPem(gateway));
    // Before the secret comes the chain is warming: no certificate is served for it.
    assertThat(
            XdsTranslator.assemble(Map.of("l", listener), Map.of(), Map.of(), Map.of(), Map.of()))
        .doesNotContainKey(new Key(Kind.SSLS, listener.servers().get(0).id()));
  }

  @Test
  void istiosAgentSdsInAutoMtlsLeavesTheEndpointsPlaintext() throws Exception {
    var cluster =
        XdsTranslator.cluster(
            eds(REVIEWS)
                .addAllTransportSocketMatches(istioMatches(istioMutual(agent(), SNI, SPIFFE)))
                .build());
    assertThat(cluster.tls()).isNull();
    assertThat(cluster.upstream().has("scheme")).isFalse();
  }

  @Test
  void withTheAgentIstiosSecretsAreNamedApartAndWaitedFor() throws Exception {
    var cluster =
        XdsTranslator.cluster(
            eds(REVIEWS)
                .addAllTransportSocketMatches(istioMatches(istioMutual(agent(), SNI, SPIFFE)))
                .build(),
            true);
    assertThat(cluster.tls().material().secretNames())
        .containsExactly("sds-grpc/default", "sds-grpc/ROOTCA");
    var resources = new XdsResources(true);
    resources.apply(
        XdsTranslator.CLUSTER,
        List.of(
            com.google.protobuf.Any.pack(
                eds(REVIEWS)
                    .addAllTransportSocketMatches(istioMatches(istioMutual(agent(), SNI, SPIFFE)))
                    .build())));
    assertThat(resources.secretNames()).isEmpty();
    assertThat(resources.agentSecretNames()).containsExactly("ROOTCA", "default");
    // The ADS server can neither replace the agent's secrets nor have a cluster ask it for them.
    assertThatThrownBy(
            () ->
                resources.apply(
                    XdsTranslator.SECRET,
                    List.of(
                        com.google.protobuf.Any.pack(
                            authoritySecret("sds-grpc/ROOTCA", ca.getCertificatePEM())))))
        .hasMessageStartingWith("secret \"sds-grpc/ROOTCA\": name: starts with sds-grpc/");
    assertThatThrownBy(
            () ->
                XdsTranslator.cluster(
                    eds("c")
                        .setTransportSocket(
                            tls(
                                UpstreamTlsContext.newBuilder()
                                    .setCommonTlsContext(
                                        CommonTlsContext.newBuilder()
                                            .addTlsCertificateSdsSecretConfigs(
                                                sds("sds-grpc/default", ads())))
                                    .build()))
                        .build(),
                    true))
        .hasMessageContaining("name: \"sds-grpc/default\" starts with sds-grpc/");
    // An explicit ISTIO_MUTUAL socket is taken too.
    assertThat(
            XdsTranslator.cluster(
                    eds("c").setTransportSocket(tls(istioMutual(agent(), SNI, SPIFFE))).build(),
                    true)
                .tls()
                .material()
                .certSecret())
        .isEqualTo("sds-grpc/default");
  }

  @Test
  void whatIsNotServedIsRefusedByNameAndField() throws Exception {
    var oldTls = istioMutual(agent(), SNI, SPIFFE).toBuilder();
    oldTls
        .getCommonTlsContextBuilder()
        .getTlsParamsBuilder()
        .setTlsMaximumProtocolVersion(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol
                .TLSv1_1);
    assertThatThrownBy(
            () ->
                XdsTranslator.cluster(
                    eds("c").setTransportSocket(tls(oldTls.build())).build(), true))
        .hasMessage(
            "cluster \"c\": transport_socket: common_tls_context: tls_params:"
                + " tls_maximum_protocol_version: TLSv1_1 not supported (expected: TLS_AUTO or"
                + " TLSv1_3; Archway speaks TLS 1.2 and 1.3)");
    assertThatThrownBy(
            () ->
                XdsTranslator.cluster(
                    eds("c").setTransportSocket(tls(istioMutual(agent(), SNI, SPIFFE))).build()))
        .hasMessage(
            "cluster \"c\": transport_socket: common_tls_context:"
                + " tls_certificate_sds_secret_configs[0]: sds_config: api_config_source not"
                + " supported for secret \"default\" (expected: ads; for Istio's agent, cluster"
                + " sds-grpc, run with --xds-sds)");
    var keyProvider =
        certificateSecret("default", Pki.chainPem(workload), Pki.keyPem(workload)).toBuilder();
    keyProvider
        .getTlsCertificateBuilder()
        .clearPrivateKey()
        .setPrivateKeyProvider(PrivateKeyProvider.newBuilder().setProviderName("cryptomb"));
    assertThatThrownBy(() -> XdsSecrets.secret(keyProvider.build()))
        .hasMessage(
            "secret \"default\": tls_certificate: private_key_provider: not supported (expected:"
                + " private_key, PEM)");
    assertThatThrownBy(
            () ->
                XdsSecrets.secret(certificateSecret("default", "not a pem", Pki.keyPem(workload))))
        .hasMessageStartingWith("secret \"default\": tls_certificate: ")
        .hasMessageEndingWith("(expected: a PEM chain and its key)");
    var other = Pki.workload(ca, "spiffe://cluster.local/ns/default/sa/other");
    assertThatThrownBy(
            () ->
                XdsSecrets.secret(
                    certificateSecret("default", Pki.chainPem(workload), Pki.keyPem(other))))
        .hasMessageStartingWith("secret \"default\": tls_certificate: ");
    assertThatThrownBy(() -> XdsSecrets.secret(Secret.newBuilder().setName("x").build()))
        .hasMessage(
            "secret \"x\": empty not supported (expected: tls_certificate or validation_context)");
    assertThatThrownBy(
            () ->
                XdsSecrets.secret(
                    Secret.newBuilder()
                        .setName("ca")
                        .setValidationContext(
                            CertificateValidationContext.newBuilder()
                                .setTrustedCa(DataSource.newBuilder().setFilename("/etc/ca.pem")))
                        .build()))
        .hasMessage(
            "secret \"ca\": validation_context: trusted_ca: filename not supported (expected:"
                + " inline_string or inline_bytes)");
    var suffix =
        UpstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .setValidationContext(
                        CertificateValidationContext.newBuilder()
                            .addMatchSubjectAltNames(
                                StringMatcher.newBuilder().setSuffix("/sa/x"))))
            .build();
    assertThatThrownBy(
            () -> XdsTranslator.cluster(eds("c").setTransportSocket(tls(suffix)).build()))
        .hasMessage(
            "cluster \"c\": transport_socket: common_tls_context: validation_context:"
                + " match_subject_alt_names[0]: suffix not supported (expected: exact or prefix)");
    var tlsParams =
        UpstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .setCustomHandshaker(TypedExtensionConfig.newBuilder().setName("h")))
            .build();
    assertThatThrownBy(
            () -> XdsTranslator.cluster(eds("c").setTransportSocket(tls(tlsParams)).build()))
        .hasMessageStartingWith(
            "cluster \"c\": transport_socket: common_tls_context: custom_handshaker: not supported");
    assertThatThrownBy(
            () ->
                XdsTranslator.listener(
                    httpsListener(List.of(), tls(gatewayServer("kubernetes://cred")))))
        .hasMessage(
            "listener \"https\": filter_chains[0]: filter_chain_match.server_names: empty"
                + " (expected: the names the certificate is served for; Archway picks"
                + " certificates by SNI)");
  }

  @Test
  void aServerNameThatIsNoHostNameIsRefused() {
    assertThatThrownBy(
            () ->
                XdsTranslator.listener(
                    httpsListener(List.of("bad name"), tls(gatewayServer("kubernetes://cred")))))
        .hasMessage(
            "listener \"https\": filter_chains[0]: filter_chain_match.server_names[0]: \"bad"
                + " name\" (expected: a host name, or *.suffix)");
  }

  @Test
  void theModelChecksTheNewTlsFields() {
    assertThatThrownBy(
            () ->
                read(
                    "{\"id\":\"u\",\"nodes\":{\"a:1\":1},\"scheme\":\"https\",\"tls\":{\"subject_alt_names\":[{\"exact\":\"spiffe://a\"}]}}"))
        .hasMessageContaining(
            "tls.subject_alt_names: set without verify: true (expected: verify: true");
    assertThatThrownBy(
            () ->
                read(
                    "{\"id\":\"u\",\"nodes\":{\"a:1\":1},\"tls\":{\"verify\":true,\"subject_alt_names\":[{\"exact\":\"a\",\"prefix\":\"b\"}]}}"))
        .hasMessageContaining(
            "tls.subject_alt_names[0]: exact and prefix both set (expected: exactly one of them)");
    assertThatThrownBy(
            () ->
                read(
                    "{\"id\":\"u\",\"nodes\":{\"a:1\":1},\"tls\":{\"match_node_metadata\":{\"tlsMode\":1}}}"))
        .hasMessageContaining("tls.match_node_metadata.tlsMode: 1 (expected: string)");
  }

  // ------------------------------------------------------------------------------- helpers

  private static Upstream read(String json) throws Exception {
    return (Upstream)
        ModelJson.read(
            Kind.UPSTREAMS,
            (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(json),
            "u",
            "upstreams/u");
  }

  private static String upstreamId() {
    return XdsTranslator.clusterId(REVIEWS);
  }

  private static Map<Key, io.archway.model.ConfigObject> assemble(
      XdsTranslator.ClusterPart cluster, Map<String, XdsSecrets.SecretPem> secrets)
      throws XdsException {
    return XdsTranslator.assemble(
        Map.of(),
        Map.of(),
        Map.of(REVIEWS, cluster),
        Map.of(REVIEWS, XdsTranslator.nodes(cla(), "t")),
        secrets);
  }

  private static DataSource inline(String s) {
    return DataSource.newBuilder().setInlineString(s).build();
  }

  private static Cluster.Builder eds(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()));
  }

  /** A pod with a sidecar, and one without. */
  private static ClusterLoadAssignment cla() {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(REVIEWS)
        .addEndpoints(
            LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(endpoint("10.0.0.1").setMetadata(sidecar()))
                .addLbEndpoints(endpoint("10.0.0.2")))
        .build();
  }

  private static LbEndpoint.Builder endpoint(String ip) {
    return XdsFixtures.endpoint(ip, 9080);
  }

  static Listener httpsListener(
      List<String> serverNames, io.envoyproxy.envoy.config.core.v3.TransportSocket socket) {
    return listener(
        "https",
        FilterChain.newBuilder()
            .setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(serverNames))
            .setTransportSocket(socket),
        "https.443");
  }
}
