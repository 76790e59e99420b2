package io.archway.operator.reconciler;

import io.archway.crds.Status;
import io.fabric8.kubernetes.client.CustomResource;

/** Status for Archway's custom resources: the two conditions, the generation and the keys. */
abstract class CustomResourceReconciler<R extends CustomResource<?, Status>>
    extends ResourceReconciler<R> {

  CustomResourceReconciler(OperatorContext ctx) {
    super(ctx);
  }

  /** The resource's {@code spec.ingressClassName}, {@code null} when unset. */
  abstract String ingressClassName(R r);

  @Override
  boolean ours(R r) {
    return ctx.ourClass(ingressClassName(r));
  }

  @Override
  boolean status(R r, Outcome o) {
    var status = r.getStatus() == null ? new Status() : r.getStatus();
    if (status.conditions == null) {
      status.conditions = new java.util.ArrayList<>();
    }
    var generation = r.getMetadata().getGeneration();
    boolean changed = r.getStatus() == null;
    changed |=
        Conditions.set(
            status,
            Conditions.ACCEPTED,
            o.accepted(),
            o.acceptedReason().text(),
            o.acceptedMessage(),
            generation);
    changed |=
        Conditions.set(
            status,
            Conditions.PROGRAMMED,
            o.programmed(),
            o.programmedReason().text(),
            o.programmedMessage(),
            generation);
    if (!java.util.Objects.equals(status.observedGeneration, generation)) {
      status.observedGeneration = generation;
      changed = true;
    }
    if (o.keys() != null && !o.keys().equals(status.keys)) {
      status.keys = o.keys().isEmpty() ? null : o.keys();
      changed = true;
    }
    r.setStatus(status);
    return changed;
  }
}
