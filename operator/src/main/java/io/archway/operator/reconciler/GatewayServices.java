package io.archway.operator.reconciler;

import io.archway.operator.translate.GatewayParametersTranslator;
import io.archway.operator.translate.GatewayServiceTranslator;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Objects;

/**
 * Keeps the Service of a Gateway whose parameters have a {@code service} ({@link
 * GatewayServiceTranslator}): creates it, updates what Archway sets on it (labels, annotations,
 * type, selector, ports, the load balancer settings; the node ports and cluster IP the API server
 * gave it are kept), and deletes it when the Gateway no longer wants one (no {@code service} in its
 * parameters, no listener served, not accepted, not Archway's, deleted). A Service of that name
 * that Archway did not make is left alone (a warning event says so). Its changes (the load
 * balancer's address) reconcile the Gateway again ({@link GatewayDependents}).
 */
final class GatewayServices {

  /** Event reason when the Service cannot be made. */
  static final String NOT_APPLIED = "ServiceNotApplied";

  private final OperatorContext ctx;
  private final GatewayServiceTranslator.Dataplane dataplane;

  GatewayServices(OperatorContext ctx, GatewayServiceTranslator.Dataplane dataplane) {
    this.ctx = ctx;
    this.dataplane = dataplane;
  }

  /** Brings the Gateway's Service in line with its parameters and computed status. */
  void apply(Gateway gw, GatewayStatus computed) {
    var params = GatewayParametersTranslator.admission(gw, ctx.caches()).params();
    var desired = GatewayServiceTranslator.service(gw, params, computed, dataplane);
    var ns = gw.getMetadata().getNamespace();
    var name = GatewayServiceTranslator.name(gw.getMetadata().getName());
    var existing = ctx.caches().service(ns, name).orElse(null);
    try {
      if (desired == null) {
        if (existing != null && ours(existing, gw)) {
          ctx.client().services().inNamespace(ns).withName(name).delete();
        }
        return;
      }
      if (existing == null) {
        ctx.client().services().inNamespace(ns).resource(desired).create();
        return;
      }
      if (!ours(existing, gw)) {
        ctx.events()
            .warning(
                gw,
                NOT_APPLIED,
                "Service "
                    + ns
                    + "/"
                    + name
                    + " exists and is not Archway's for this Gateway: left as it is");
        return;
      }
      var updated = new ServiceBuilder(existing).build();
      setManagedFields(updated, desired);
      if (!Objects.equals(updated.getMetadata(), existing.getMetadata())
          || !Objects.equals(updated.getSpec(), existing.getSpec())) {
        ctx.client()
            .services()
            .inNamespace(ns)
            .withName(name)
            .edit(
                s -> {
                  setManagedFields(s, desired);
                  return s;
                });
      }
    } catch (KubernetesClientException e) {
      ctx.events().warning(gw, NOT_APPLIED, "Service " + ns + "/" + name + ": " + e.getMessage());
    }
  }

  /** Deletes the Gateway's Service, if it is Archway's (the Gateway goes, or is not ours). */
  void delete(Gateway gw) {
    var ns = gw.getMetadata().getNamespace();
    var name = GatewayServiceTranslator.name(gw.getMetadata().getName());
    var existing = ctx.caches().service(ns, name).orElse(null);
    if (existing != null && ours(existing, gw)) {
      try {
        ctx.client().services().inNamespace(ns).withName(name).delete();
      } catch (KubernetesClientException e) {
        ctx.events().warning(gw, NOT_APPLIED, "Service " + ns + "/" + name + ": " + e.getMessage());
      }
    }
  }

  /** Whether Archway made the Service for this Gateway (its labels say so). */
  static boolean ours(Service s, Gateway gw) {
    return gw.getMetadata().getName().equals(GatewayDependents.gatewayOf(s));
  }

  /**
   * Sets on {@code s} what Archway decides (see the class comment), keeping what the API server
   * assigned: the cluster IP, and a port's node port while the type has node ports.
   */
  static void setManagedFields(Service s, Service desired) {
    var m = s.getMetadata();
    var d = desired.getMetadata();
    m.setLabels(d.getLabels());
    m.setAnnotations(d.getAnnotations());
    m.setOwnerReferences(d.getOwnerReferences());
    var spec = s.getSpec();
    var want = desired.getSpec();
    var type = want.getType();
    boolean nodePorts = !"ClusterIP".equals(type);
    var ports = new java.util.ArrayList<io.fabric8.kubernetes.api.model.ServicePort>();
    for (var p : want.getPorts()) {
      var port = new io.fabric8.kubernetes.api.model.ServicePortBuilder(p).build();
      if (nodePorts && spec.getPorts() != null) {
        spec.getPorts().stream()
            .filter(
                old ->
                    Objects.equals(old.getPort(), p.getPort())
                        && Objects.equals(old.getProtocol(), p.getProtocol()))
            .findFirst()
            .ifPresent(old -> port.setNodePort(old.getNodePort()));
      }
      ports.add(port);
    }
    spec.setType(type);
    spec.setSelector(want.getSelector());
    spec.setPorts(ports);
    spec.setLoadBalancerSourceRanges(want.getLoadBalancerSourceRanges());
    spec.setLoadBalancerIP(want.getLoadBalancerIP());
    spec.setExternalTrafficPolicy(want.getExternalTrafficPolicy());
    // What the API server defaulted for one type and refuses for another goes with the type.
    if (!"LoadBalancer".equals(type) || !"Local".equals(want.getExternalTrafficPolicy())) {
      spec.setHealthCheckNodePort(null);
    }
    if (!"LoadBalancer".equals(type)) {
      spec.setAllocateLoadBalancerNodePorts(null);
      spec.setLoadBalancerClass(null);
    } else if (want.getLoadBalancerClass() != null) {
      // Unset in the parameters: what the Service has stays (the API server does not change it).
      spec.setLoadBalancerClass(want.getLoadBalancerClass());
    }
  }
}
