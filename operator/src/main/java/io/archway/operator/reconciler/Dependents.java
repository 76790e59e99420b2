package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy;
import io.archway.crds.apisix.v1alpha1.GatewayProxy;
import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.crds.archway.PluginFlow;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.List;
import java.util.function.Supplier;

/**
 * Turns "this object changed" into reconciles of the resources whose translation read it: the
 * routes of a Service, an ApisixUpstream, a PluginFlow, an ApisixPluginConfig or a Secret; every
 * Ingress when an IngressClass or the published Service changes. (Resources refused for a host/path
 * conflict are reconciled again by the reconcilers themselves, when what a route claims changes.)
 */
final class Dependents {

  /** The resources of one reconciler and its trigger. */
  record Primaries(Supplier<List<? extends HasMetadata>> list, Trigger<?> trigger) {}

  private final OperatorContext ctx;
  private final List<Primaries> primaries;

  Dependents(OperatorContext ctx, List<Primaries> primaries) {
    this.ctx = ctx;
    this.primaries = primaries;
  }

  /** Whether the operator resolves this Service's endpoints (so a slice change matters). */
  private boolean resolvedHere(String ns, String service) {
    var caches = ctx.caches();
    return switch (caches.controlPlaneDiscovery()) {
      case ALL -> true;
      case OFF -> false;
      case MARKED ->
          caches
              .apisixUpstream(ns, service)
              .map(
                  au ->
                      au.getSpec() != null
                          && au.getSpec().discovery != null
                          && "controlplane".equals(au.getSpec().discovery.type))
              .orElse(false);
    };
  }

  /**
   * A registry service's nodes (or error) changed: the ApisixUpstreams that name it are reconciled
   * again (their status), and the routes that use them (their nodes).
   */
  void registryChanged(String type, String serviceName) {
    var keys = new java.util.HashSet<String>();
    for (var p : primaries) {
      for (var r : p.list().get()) {
        if (r instanceof ApisixUpstream au
            && au.getSpec() != null
            && au.getSpec().discovery != null
            && type.equals(au.getSpec().discovery.type)
            && serviceName.equals(au.getSpec().discovery.serviceName)) {
          keys.add(References.key(au));
          p.trigger().fire(r);
        }
      }
    }
    if (keys.isEmpty()) {
      return;
    }
    for (var p : primaries) {
      for (var r : p.list().get()) {
        if (!java.util.Collections.disjoint(References.of(r), keys)) {
          p.trigger().fire(r);
        }
      }
    }
  }

  void changed(HasMetadata x) {
    if (x instanceof BackendTrafficPolicy || x instanceof HTTPRoutePolicy) {
      policyChanged(x);
      return;
    }
    var key = References.key(x);
    if (x instanceof EndpointSlice slice) {
      // Control-plane discovery: a Service's endpoints changed, its routes write new nodes.
      var labels = slice.getMetadata().getLabels();
      var service = labels == null ? null : labels.get(Caches.SERVICE_NAME_LABEL);
      if (service == null || !resolvedHere(slice.getMetadata().getNamespace(), service)) {
        return;
      }
      key = References.key("Service", slice.getMetadata().getNamespace(), service);
    }
    boolean allIngresses =
        x instanceof IngressClass
            || (ctx.publishService() != null && key.equals("Service/" + ctx.publishService()));
    boolean referenced =
        x instanceof EndpointSlice
            || x instanceof Service
            || x instanceof ApisixUpstream
            || x instanceof PluginFlow
            || x instanceof io.archway.crds.archway.GatewayParameters
            || x instanceof io.archway.crds.apisix.ApisixPluginConfig
            || x instanceof io.archway.crds.apisix.v1alpha1.PluginConfig
            || x instanceof Secret;
    if (!referenced && !allIngresses) {
      return;
    }
    var keys = new java.util.HashSet<String>();
    keys.add(key);
    if (x instanceof Secret) {
      // An ApisixUpstream's tlsSecret reaches etcd through the routes that use the upstream.
      for (var p : primaries) {
        for (var r : p.list().get()) {
          if (r instanceof ApisixUpstream au && References.of(au).contains(key)) {
            keys.add(References.key(au));
          }
        }
      }
    }
    for (var p : primaries) {
      for (var r : p.list().get()) {
        if ((referenced && !java.util.Collections.disjoint(References.of(r), keys))
            || (allIngresses && (r instanceof Ingress || r instanceof GatewayProxy))) {
          p.trigger().fire(r);
        }
      }
    }
  }

  /**
   * A policy changed: what it targets is reconciled again. A BackendTrafficPolicy's Services are
   * read by the routes whose backends they are; an HTTPRoutePolicy's Ingresses are the targets
   * themselves.
   */
  private void policyChanged(HasMetadata x) {
    var ns = x.getMetadata().getNamespace();
    var services = new java.util.HashSet<String>();
    var targets = new java.util.HashSet<String>();
    if (x instanceof BackendTrafficPolicy p
        && p.getSpec() != null
        && p.getSpec().targetRefs != null) {
      p.getSpec().targetRefs.stream()
          .filter(r -> r != null && r.name != null)
          .forEach(r -> services.add(References.key("Service", ns, r.name)));
    }
    if (x instanceof HTTPRoutePolicy p && p.getSpec() != null && p.getSpec().targetRefs != null) {
      p.getSpec().targetRefs.stream()
          .filter(r -> r != null && r.name != null && "Ingress".equals(r.kind))
          .forEach(r -> targets.add(References.key("Ingress", ns, r.name)));
    }
    for (var p : primaries) {
      for (var r : p.list().get()) {
        if (r instanceof Ingress
            && (targets.contains(References.key(r))
                || !java.util.Collections.disjoint(References.of(r), services))) {
          p.trigger().fire(r);
        }
      }
    }
  }
}
