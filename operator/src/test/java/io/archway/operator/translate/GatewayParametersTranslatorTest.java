package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.crds.archway.GatewayParametersSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a Gateway's parameters come together: its class's, its own over them field by field, and what
 * makes either unusable.
 */
class GatewayParametersTranslatorTest {

  @TempDir java.nio.file.Path dir;

  private Manifests manifests(String yaml) throws Exception {
    return HTTPRouteTranslatorTest.read(yaml, dir);
  }

  private static final String CLASS =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: archway}
      spec:
        controllerName: archway.io/gateway-controller
        parametersRef: {group: archway.io, kind: GatewayParameters, name: platform, namespace: infra}
      ---
      apiVersion: archway.io/v1alpha1
      kind: GatewayParameters
      metadata: {name: platform, namespace: infra}
      spec:
        service:
          type: LoadBalancer
          labels: {team: platform, tier: edge}
          annotations: {a: class}
          externalTrafficPolicy: Local
          loadBalancerSourceRanges: [10.0.0.0/8]
        listenerDefaults:
          tls: {protocols: [TLSv1.2, TLSv1.3]}
      """;

  /** A Gateway's own parameters: the GatewayParameters "mine" of its namespace. */
  private static final String OWN =
      "  infrastructure:\n"
          + "    parametersRef: {group: archway.io, kind: GatewayParameters, name: mine}\n";

  private static Gateway gateway(String infrastructure) {
    return Serialization.unmarshal(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: apps}
        spec:
          gatewayClassName: archway
        """
            + infrastructure
            + "  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
        Gateway.class);
  }

  @Test
  void aGatewayWithoutItsOwnParametersHasItsClasss() throws Exception {
    var refs = manifests(CLASS);
    var r = GatewayParametersTranslator.effective(gateway(""), refs);
    assertThat(r.problem()).isNull();
    assertThat(r.spec().service.type).isEqualTo("LoadBalancer");
    assertThat(GatewayParametersTranslator.tlsProtocols(r.spec()))
        .containsExactly("TLSv1.2", "TLSv1.3");
  }

  @Test
  void itsOwnOverrideTheClasssFieldByField() throws Exception {
    var refs =
        manifests(
            CLASS
                + """
                ---
                apiVersion: archway.io/v1alpha1
                kind: GatewayParameters
                metadata: {name: mine, namespace: apps}
                spec:
                  service:
                    type: NodePort
                    labels: {tier: apps}
                  listenerDefaults:
                    tls: {protocols: [TLSv1.3]}
                """);
    var r = GatewayParametersTranslator.effective(gateway(OWN), refs);
    assertThat(r.problem()).isNull();
    var s = r.spec().service;
    assertThat(s.type).isEqualTo("NodePort");
    assertThat(s.externalTrafficPolicy).isEqualTo("Local");
    assertThat(s.loadBalancerSourceRanges).containsExactly("10.0.0.0/8");
    assertThat(s.labels).containsExactly(Map.entry("team", "platform"), Map.entry("tier", "apps"));
    assertThat(s.annotations).containsExactly(Map.entry("a", "class"));
    assertThat(GatewayParametersTranslator.tlsProtocols(r.spec())).containsExactly("TLSv1.3");
  }

  @Test
  void itsOwnAreLookedForInItsNamespaceAndMustBeArchways() throws Exception {
    var refs =
        manifests(
            CLASS
                + """
                ---
                apiVersion: archway.io/v1alpha1
                kind: GatewayParameters
                metadata: {name: mine, namespace: elsewhere}
                spec: {}
                """);
    var missing = GatewayParametersTranslator.admission(gateway(OWN), refs);
    assertThat(missing.reason()).isEqualTo(GatewayApi.INVALID_PARAMETERS);
    assertThat(missing.message())
        .isEqualTo("spec.infrastructure.parametersRef: GatewayParameters apps/mine not found");
    var kind =
        GatewayParametersTranslator.admission(
            gateway(
                "  infrastructure:\n"
                    + "    parametersRef: {group: apisix.apache.org, kind: GatewayProxy, name:"
                    + " mine}\n"),
            refs);
    assertThat(kind.reason()).isEqualTo(GatewayApi.INVALID_PARAMETERS);
    assertThat(kind.message()).contains("kind GatewayProxy is not a parameters kind");
  }

  @Test
  void aClassThatIsNotAcceptedRefusesItsGateways() throws Exception {
    var refs =
        manifests(
            CLASS.replace(
                "kind: GatewayParameters, name: platform", "kind: GatewayParameters, name: gone"));
    var a = GatewayParametersTranslator.admission(gateway(""), refs);
    assertThat(a.reason()).isEqualTo(GatewayApi.INVALID);
    assertThat(a.message())
        .contains("GatewayClass archway is not accepted")
        .contains("GatewayParameters infra/gone not found");
    assertThat(a.params()).isNull();
  }

  @Test
  void everyBadFieldIsNamed() throws Exception {
    var p =
        Serialization.unmarshal(
            """
            apiVersion: archway.io/v1alpha1
            kind: GatewayParameters
            metadata: {name: bad, namespace: infra}
            spec:
              service:
                type: ExternalName
                externalTrafficPolicy: Nearest
                loadBalancerSourceRanges: [10.0.0.0/8, anywhere]
              listenerDefaults: {tls: {protocols: []}}
            """,
            io.archway.crds.archway.GatewayParameters.class);
    assertThat(GatewayParametersTranslator.problems(p))
        .extracting(Translation.FieldError::field)
        .containsExactly(
            "spec.service.type",
            "spec.service.externalTrafficPolicy",
            "spec.service.loadBalancerSourceRanges[1]",
            "spec.listenerDefaults.tls.protocols");
  }

  @Test
  void mergeKeepsTheBaseWhereTheOverrideSaysNothing() {
    var base = new GatewayParametersSpec();
    base.service = new GatewayParametersSpec.Service();
    base.service.type = "LoadBalancer";
    base.service.loadBalancerClass = "example.com/lb";
    var over = new GatewayParametersSpec();
    var merged = GatewayParametersTranslator.merge(base, over);
    assertThat(merged.service.type).isEqualTo("LoadBalancer");
    assertThat(merged.service.loadBalancerClass).isEqualTo("example.com/lb");
    assertThat(merged.listenerDefaults).isNull();
    assertThat(GatewayParametersTranslator.merge(null, over)).isSameAs(over);
    assertThat(GatewayParametersTranslator.join(null, null)).isNull();
    assertThat(GatewayParametersTranslator.join(Map.of("a", "1"), Map.of("a", "2")))
        .isEqualTo(Map.of("a", "2"));
  }
}
