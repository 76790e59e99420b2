package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

/**
 * What the operator sets on the Service it keeps for a Gateway, and what it keeps of what the API
 * server assigned (as a real API server would have filled it in: the mock does not).
 */
class GatewayServicesTest {

  private static final Service ASSIGNED =
      Serialization.unmarshal(
          """
          apiVersion: v1
          kind: Service
          metadata:
            name: edge-archway
            namespace: apps
            labels: {gateway.networking.k8s.io/gateway-name: edge, old: label}
            annotations: {old: annotation}
          spec:
            type: LoadBalancer
            clusterIP: 10.96.0.7
            externalTrafficPolicy: Local
            healthCheckNodePort: 31000
            allocateLoadBalancerNodePorts: true
            loadBalancerClass: example.com/lb
            ports:
            - {name: tcp-80, port: 80, protocol: TCP, targetPort: 10080, nodePort: 30080}
            - {name: tcp-443, port: 443, protocol: TCP, targetPort: 10443, nodePort: 30443}
          """,
          Service.class);

  private static Service desired(String type, String policy) {
    return Serialization.unmarshal(
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: edge-archway
          namespace: apps
          labels: {gateway.networking.k8s.io/gateway-name: edge, team: edge}
        spec:
          type: TYPE
          POLICY
          selector: {app: dp}
          ports:
          - {name: tcp-80, port: 80, protocol: TCP, targetPort: 10080}
          - {name: udp-53, port: 53, protocol: UDP, targetPort: 10053}
        """
            .replace("TYPE", type)
            .replace("POLICY", policy == null ? "" : "externalTrafficPolicy: " + policy),
        Service.class);
  }

  @Test
  void nodePortsAndTheClusterIpAreKeptWhileTheTypeHasThem() {
    var s = new ServiceBuilder(ASSIGNED).build();
    GatewayServices.setManagedFields(s, desired("NodePort", "Cluster"));
    assertThat(s.getSpec().getClusterIP()).isEqualTo("10.96.0.7");
    assertThat(s.getSpec().getPorts())
        .extracting(p -> p.getName() + " " + p.getNodePort())
        .containsExactly("tcp-80 30080", "udp-53 null");
    assertThat(s.getSpec().getSelector()).containsEntry("app", "dp");
    // Labels and annotations are exactly Archway's.
    assertThat(s.getMetadata().getLabels()).doesNotContainKey("old").containsEntry("team", "edge");
    assertThat(s.getMetadata().getAnnotations()).isNullOrEmpty();
    // What only a LoadBalancer (with Local) may have goes.
    assertThat(s.getSpec().getHealthCheckNodePort()).isNull();
    assertThat(s.getSpec().getAllocateLoadBalancerNodePorts()).isNull();
    assertThat(s.getSpec().getLoadBalancerClass()).isNull();
    assertThat(s.getSpec().getExternalTrafficPolicy()).isEqualTo("Cluster");
  }

  @Test
  void aClusterIpServiceHasNoNodePortsNorTrafficPolicy() {
    var s = new ServiceBuilder(ASSIGNED).build();
    GatewayServices.setManagedFields(s, desired("ClusterIP", null));
    assertThat(s.getSpec().getPorts()).allMatch(p -> p.getNodePort() == null);
    assertThat(s.getSpec().getExternalTrafficPolicy()).isNull();
    assertThat(s.getSpec().getClusterIP()).isEqualTo("10.96.0.7");
  }

  @Test
  void aLoadBalancerKeepsItsClassAndHealthCheckPortWhileLocal() {
    var s = new ServiceBuilder(ASSIGNED).build();
    GatewayServices.setManagedFields(s, desired("LoadBalancer", "Local"));
    assertThat(s.getSpec().getLoadBalancerClass()).isEqualTo("example.com/lb");
    assertThat(s.getSpec().getHealthCheckNodePort()).isEqualTo(31000);
    assertThat(s.getSpec().getAllocateLoadBalancerNodePorts()).isTrue();
  }
}
