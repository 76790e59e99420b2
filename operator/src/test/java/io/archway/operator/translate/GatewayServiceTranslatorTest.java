package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.crds.archway.GatewayParametersSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Service per Gateway: its name, ports, type-dependent fields and addresses. */
class GatewayServiceTranslatorTest {

  private static final Gateway GW =
      Serialization.unmarshal(
          """
          apiVersion: gateway.networking.k8s.io/v1
          kind: Gateway
          metadata: {name: edge, namespace: apps, uid: u-1}
          spec:
            gatewayClassName: archway
            addresses: [{type: Hostname, value: edge.example.com}, {value: 192.0.2.5}]
            listeners:
            - {name: web, port: 80, protocol: HTTP}
            - {name: alt, port: 8080, protocol: HTTP}
            - {name: dns, port: 53, protocol: UDP}
          """,
          Gateway.class);

  /** The status GatewayTranslator computes, as the Service reads it. */
  private static GatewayStatus status(Gateway gw) {
    return (GatewayStatus) GatewayTranslator.translate(gw, new Manifests("apps")).status();
  }

  private static GatewayParametersSpec params(String type) {
    var p = new GatewayParametersSpec();
    p.service = new GatewayParametersSpec.Service();
    p.service.type = type;
    return p;
  }

  @Test
  void portsBelow1024GoWhereTheDataplaneBindsThem() {
    var unprivileged =
        GatewayServiceTranslator.service(
            GW, params(null), status(GW), GatewayServiceTranslator.Dataplane.DEFAULT);
    assertThat(unprivileged.getSpec().getPorts())
        .extracting(p -> p.getName() + " " + p.getPort() + "->" + p.getTargetPort().getIntVal())
        .containsExactly("udp-53 53->10053", "tcp-80 80->10080", "tcp-8080 8080->8080");
    var privileged =
        GatewayServiceTranslator.service(
            GW,
            params(null),
            status(GW),
            new GatewayServiceTranslator.Dataplane(Map.of("app", "dp"), true));
    assertThat(privileged.getSpec().getPorts())
        .extracting(p -> p.getTargetPort().getIntVal())
        .containsExactly(53, 80, 8080);
    assertThat(privileged.getSpec().getSelector()).isEqualTo(Map.of("app", "dp"));
  }

  @Test
  void theTypeDecidesTheLoadBalancerFields() {
    var p = params(null);
    p.service.loadBalancerClass = "example.com/lb";
    p.service.externalTrafficPolicy = "Local";
    var lb =
        GatewayServiceTranslator.service(
            GW, p, status(GW), GatewayServiceTranslator.Dataplane.DEFAULT);
    assertThat(lb.getSpec().getType()).isEqualTo("LoadBalancer");
    assertThat(lb.getSpec().getLoadBalancerClass()).isEqualTo("example.com/lb");
    assertThat(lb.getSpec().getExternalTrafficPolicy()).isEqualTo("Local");
    // The first IPAddress of spec.addresses is the one asked of the load balancer.
    assertThat(lb.getSpec().getLoadBalancerIP()).isEqualTo("192.0.2.5");
    p.service.type = "ClusterIP";
    var cluster =
        GatewayServiceTranslator.service(
            GW, p, status(GW), GatewayServiceTranslator.Dataplane.DEFAULT);
    assertThat(cluster.getSpec().getExternalTrafficPolicy()).isNull();
    assertThat(cluster.getSpec().getLoadBalancerClass()).isNull();
    assertThat(cluster.getSpec().getLoadBalancerIP()).isNull();
    p.service.type = "NodePort";
    p.service.externalTrafficPolicy = null;
    var nodePort =
        GatewayServiceTranslator.service(
            GW, p, status(GW), GatewayServiceTranslator.Dataplane.DEFAULT);
    assertThat(nodePort.getSpec().getExternalTrafficPolicy()).isEqualTo("Cluster");
  }

  @Test
  void noServiceWithoutOneInTheParametersOrWithoutAServedListener() {
    assertThat(
            GatewayServiceTranslator.service(
                GW, null, status(GW), GatewayServiceTranslator.Dataplane.DEFAULT))
        .isNull();
    assertThat(
            GatewayServiceTranslator.service(
                GW,
                new GatewayParametersSpec(),
                status(GW),
                GatewayServiceTranslator.Dataplane.DEFAULT))
        .isNull();
    var none = new GatewayStatus();
    assertThat(
            GatewayServiceTranslator.service(
                GW, params("ClusterIP"), none, GatewayServiceTranslator.Dataplane.DEFAULT))
        .isNull();
  }

  @Test
  void namesAreDnsLabels() {
    assertThat(GatewayServiceTranslator.name("edge")).isEqualTo("edge-archway");
    assertThat(GatewayServiceTranslator.name("edge.example")).isEqualTo("edge-example-archway");
    assertThat(GatewayServiceTranslator.name("1st")).isEqualTo("gw-1st-archway");
    var a = GatewayServiceTranslator.name("a".repeat(60) + "x");
    var b = GatewayServiceTranslator.name("a".repeat(60) + "y");
    assertThat(a).hasSizeLessThanOrEqualTo(63).endsWith("-archway").isNotEqualTo(b);
  }

  @Test
  void addressesPreferTheLoadBalancerThenExternalIpsThenTheClusterIp() {
    var s =
        Serialization.unmarshal(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: edge-archway, namespace: apps}
            spec: {clusterIP: 10.96.0.9, externalIPs: [198.51.100.1]}
            status:
              loadBalancer: {ingress: [{ip: 203.0.113.1}, {hostname: lb.example.com}]}
            """,
            Service.class);
    assertThat(GatewayServiceTranslator.addresses(s))
        .extracting(a -> a.getType() + " " + a.getValue())
        .containsExactly("IPAddress 203.0.113.1", "Hostname lb.example.com");
    s.setStatus(null);
    assertThat(GatewayServiceTranslator.addresses(s))
        .extracting(a -> a.getValue())
        .containsExactly("198.51.100.1");
    s.getSpec().setExternalIPs(null);
    assertThat(GatewayServiceTranslator.addresses(s))
        .extracting(a -> a.getValue())
        .containsExactly("10.96.0.9");
    s.getSpec().setClusterIP("None");
    assertThat(GatewayServiceTranslator.addresses(s)).isEmpty();
  }
}
