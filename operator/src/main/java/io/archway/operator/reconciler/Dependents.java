package io.archway.operator.reconciler;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.archway.PluginFlow;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.List;
import java.util.function.Supplier;

/**
 * Turns "this object changed" into reconciles of the resources whose translation read it: the
 * routes of a Service, an ApisixUpstream, a PluginFlow or a Secret; every Ingress when an
 * IngressClass or the published Service changes. (Resources refused for a host/path conflict are
 * reconciled again by the reconcilers themselves, when what a route claims changes.)
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

  void changed(HasMetadata x) {
    var key = References.key(x);
    boolean allIngresses =
        x instanceof IngressClass
            || (ctx.publishService() != null && key.equals("Service/" + ctx.publishService()));
    boolean referenced =
        x instanceof Service
            || x instanceof ApisixUpstream
            || x instanceof PluginFlow
            || x instanceof Secret;
    if (!referenced && !allIngresses) {
      return;
    }
    for (var p : primaries) {
      for (var r : p.list().get()) {
        if ((referenced && References.of(r).contains(key))
            || (allIngresses && r instanceof Ingress)) {
          p.trigger().fire(r);
        }
      }
    }
  }
}
