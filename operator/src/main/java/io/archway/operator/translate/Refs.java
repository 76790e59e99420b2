package io.archway.operator.translate;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.archway.PluginFlow;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import java.util.Optional;

/**
 * What translators may look up besides the resource itself. In the operator it reads the informer
 * caches; in {@code archway-operator translate|validate} it reads the files given.
 */
public interface Refs {

  Optional<Service> service(String namespace, String name);

  Optional<Secret> secret(String namespace, String name);

  Optional<ApisixUpstream> apisixUpstream(String namespace, String name);

  Optional<PluginFlow> pluginFlow(String namespace, String name);

  /**
   * The BackendTrafficPolicies of a namespace: what the upstreams of the Services they target are
   * given.
   */
  default java.util.List<io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy>
      backendTrafficPolicies(String namespace) {
    return java.util.List.of();
  }

  /** The HTTPRoutePolicies of a namespace: what the routes of the Ingresses they target get. */
  default java.util.List<io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy> httpRoutePolicies(
      String namespace) {
    return java.util.List.of();
  }

  /** The L4RoutePolicies of a namespace: stream plugins for the L4 Gateway API routes. */
  default java.util.List<io.archway.crds.apisix.v1alpha1.L4RoutePolicy> l4RoutePolicies(
      String namespace) {
    return java.util.List.of();
  }

  /** A GatewayProxy, which IngressClass parameters may name. */
  default Optional<io.archway.crds.apisix.v1alpha1.GatewayProxy> gatewayProxy(
      String namespace, String name) {
    return Optional.empty();
  }

  /**
   * An Archway GatewayParameters ({@code archway.io/v1alpha1}), which a GatewayClass's {@code
   * parametersRef} or a Gateway's {@code spec.infrastructure.parametersRef} may name.
   */
  default Optional<io.archway.crds.archway.GatewayParameters> gatewayParameters(
      String namespace, String name) {
    return Optional.empty();
  }

  /** An ApisixPluginConfig, which routes name in {@code plugin_config_name}. */
  default Optional<io.archway.crds.apisix.ApisixPluginConfig> apisixPluginConfig(
      String namespace, String name) {
    return Optional.empty();
  }

  /**
   * A PluginConfig (APISIX Ingress Controller 2.x, {@code apisix.apache.org/v1alpha1}), which the
   * Ingress annotation {@code plugin-config-name} may name as well as an ApisixPluginConfig.
   */
  default Optional<io.archway.crds.apisix.v1alpha1.PluginConfig> pluginConfig(
      String namespace, String name) {
    return Optional.empty();
  }

  /** A Gateway API Gateway, which HTTPRoutes name in {@code parentRefs}. */
  default Optional<io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway> gateway(
      String namespace, String name) {
    return Optional.empty();
  }

  /**
   * The names of the listeners of {@code gateway} that are served ({@code Programmed} in the status
   * {@link GatewayTranslator} computes): only those get routes. A listener that is not accepted,
   * conflicted, or whose certificates do not resolve takes none.
   */
  default java.util.Set<String> servedListeners(
      io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway gateway) {
    var status =
        (io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus)
            GatewayTranslator.translate(gateway, this).status();
    var out = new java.util.HashSet<String>();
    for (var l : status.getListeners()) {
      if (l.getConditions().stream()
          .anyMatch(
              c -> GatewayApi.PROGRAMMED.equals(c.getType()) && "True".equals(c.getStatus()))) {
        out.add(l.getName());
      }
    }
    return out;
  }

  /** A GatewayClass (cluster-scoped): whether a Gateway is Archway's. */
  default Optional<io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass> gatewayClass(
      String name) {
    return Optional.empty();
  }

  /** A Namespace, whose labels a listener's {@code allowedRoutes.namespaces.selector} matches. */
  default Optional<io.fabric8.kubernetes.api.model.Namespace> namespace(String name) {
    return Optional.empty();
  }

  /**
   * The ReferenceGrants ({@code gateway.networking.k8s.io/v1beta1}) of a namespace: what lets a
   * Gateway or a route of another namespace refer to its objects.
   */
  default java.util.List<io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant>
      referenceGrants(String namespace) {
    return java.util.List.of();
  }

  /** Whether the operator resolves Services' endpoints into nodes itself. */
  enum ControlPlaneDiscovery {
    /** Never: the dataplane follows the endpoints. */
    OFF,
    /** For Services whose ApisixUpstream says {@code discovery: {type: controlplane}}. */
    MARKED,
    /** For every Service backend with endpoint granularity. */
    ALL
  }

  default ControlPlaneDiscovery controlPlaneDiscovery() {
    return ControlPlaneDiscovery.OFF;
  }

  /** The EndpointSlices of a Service (control-plane discovery), as the shared rule takes them. */
  default java.util.List<io.archway.model.EndpointSliceNodes.Slice> endpointSlices(
      String namespace, String service) {
    return java.util.List.of();
  }

  /**
   * What the registry of {@code type} ({@code zookeeper}, {@code dns}) that the operator follows
   * has for {@code serviceName}; {@code null} when it follows no registry of that type.
   */
  default RegistryLookup registry(String type, String serviceName) {
    return null;
  }

  /** The labels of a Pod (subsets under control-plane discovery); {@code null} when unknown. */
  default java.util.Map<String, String> podLabels(String namespace, String pod) {
    return null;
  }

  /**
   * Whether a Service missing from the lookup may be assumed to exist (offline translation of files
   * that do not hold every Service): a numbered port is then used as it is, with a warning.
   */
  default boolean offline() {
    return false;
  }
}
