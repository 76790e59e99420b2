package io.archway.operator.reconciler;

import io.archway.operator.translate.GatewayApi;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which Gateway API kinds are installed, read once at start-up from the CustomResourceDefinitions
 * of {@value GatewayApi#GROUP}: the operator watches only those (a cluster without the Gateway API
 * CRDs gets no Gateway API controllers, and no errors). The CRDs are the user's to install (the
 * upstream bundle), as with other implementations; installing them later takes a restart.
 *
 * @param kinds each installed kind and the versions it serves
 * @param bundleVersion the bundle version the CRDs carry ({@value
 *     GatewayApi#BUNDLE_VERSION_ANNOTATION}), {@code null} when none says
 */
public record GatewayApiCrds(Map<String, Set<String>> kinds, String bundleVersion) {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayApiCrds.class);

  public static final GatewayApiCrds NONE = new GatewayApiCrds(Map.of(), null);

  /** Whether {@code kind} is installed and serves {@code version}. */
  public boolean has(String kind, String version) {
    var versions = kinds.get(kind);
    return versions != null && versions.contains(version);
  }

  /** What the CRDs of the group say. */
  static GatewayApiCrds of(List<CustomResourceDefinition> crds) {
    var kinds = new TreeMap<String, Set<String>>();
    String bundle = null;
    for (var crd : crds) {
      var spec = crd.getSpec();
      if (spec == null || !GatewayApi.GROUP.equals(spec.getGroup())) {
        continue;
      }
      var versions = new TreeSet<String>();
      if (spec.getVersions() != null) {
        spec.getVersions().stream()
            .filter(v -> !Boolean.FALSE.equals(v.getServed()))
            .forEach(v -> versions.add(v.getName()));
      }
      kinds.put(spec.getNames().getKind(), versions);
      var annotations = crd.getMetadata().getAnnotations();
      var v = annotations == null ? null : annotations.get(GatewayApi.BUNDLE_VERSION_ANNOTATION);
      if (v != null && (bundle == null || v.compareTo(bundle) > 0)) {
        bundle = v;
      }
    }
    return new GatewayApiCrds(Map.copyOf(kinds), bundle);
  }

  /**
   * Lists the CRDs. Without the right to (an install without the Gateway API RBAC), it says so and
   * takes none: Ingress and the Apisix kinds are served all the same.
   */
  static GatewayApiCrds detect(KubernetesClient client) {
    try {
      var found = of(client.apiextensions().v1().customResourceDefinitions().list().getItems());
      if (found.kinds().isEmpty()) {
        LOG.info("Gateway API: no CRDs of {} installed; not watched", GatewayApi.GROUP);
      } else {
        LOG.info(
            "Gateway API {}: {} installed",
            found.bundleVersion() == null ? "(no bundle version)" : found.bundleVersion(),
            found.kinds());
        if (!GatewayApi.supportedVersion(found.bundleVersion())) {
          LOG.warn(
              "Gateway API bundle {} is not the one this Archway targets ({})",
              found.bundleVersion(),
              GatewayApi.BUNDLE_VERSION);
        }
      }
      return found;
    } catch (KubernetesClientException e) {
      LOG.warn(
          "Gateway API: cannot list CustomResourceDefinitions ({}); Gateway API not watched",
          e.getCode() == 0 ? e.getMessage() : "HTTP " + e.getCode());
      return NONE;
    }
  }
}
