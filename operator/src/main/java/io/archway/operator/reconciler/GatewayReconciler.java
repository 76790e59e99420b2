package io.archway.operator.reconciler;

import io.archway.model.sink.NotOwnedException;
import io.archway.operator.translate.GatewayApi;
import io.archway.operator.translate.GatewayClassTranslator;
import io.archway.operator.translate.GatewayTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.javaoperatorsdk.operator.ReconcilerUtils;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Gateway of one of Archway's GatewayClasses → {@code listeners/<ns>_<gateway>_<listener>} and the
 * HTTPS listeners' {@code ssls}, with the spec's status: the Gateway's {@code Accepted} and {@code
 * Programmed} ({@code status.addresses} from the published dataplane Service), and per listener
 * {@code Accepted}, {@code Conflicted}, {@code ResolvedRefs}, {@code Programmed}. A listener that
 * cannot be served is left out alone. Reconciled again when its Secrets, the ReferenceGrants, its
 * GatewayClass or the published Service change ({@link GatewayDependents}).
 */
@ControllerConfiguration(name = "gateway")
public final class GatewayReconciler extends ResourceReconciler<Gateway>
    implements Reconciler<Gateway> {

  /** How often a Gateway whose class does not exist looks for it again. */
  private static final java.time.Duration CLASS_RECHECK = java.time.Duration.ofSeconds(5);

  public GatewayReconciler(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  Translation translate(Gateway r) {
    // TODO(merge with ListenerAttachment, branch gwapi): count, per listener, the routes in the
    // caches whose parentRefs attach to it (ListenerAttachment.attachedListeners), and reconcile
    // the Gateways again when routes change; 0 until then.
    return GatewayTranslator.translate(r, ctx.caches(), published(), listener -> 0);
  }

  /**
   * Ours when its class is a GatewayClass of our controller: from the GatewayClass controller's
   * cache, else (not filled yet at start-up) from the API server.
   */
  @Override
  boolean ours(Gateway r) {
    var c = gatewayClass(r);
    return c != null && GatewayClassTranslator.ours(c);
  }

  /** Its GatewayClass; {@code null} when it names none, or one that does not exist. */
  private GatewayClass gatewayClass(Gateway r) {
    var name = r.getSpec() == null ? null : r.getSpec().getGatewayClassName();
    if (name == null) {
      return null;
    }
    var cached =
        ctx.caches().primaries("GatewayClass").stream()
            .filter(c -> name.equals(c.getMetadata().getName()))
            .findFirst();
    return cached.isPresent()
        ? (GatewayClass) cached.get()
        : ctx.client().resources(GatewayClass.class).withName(name).get();
  }

  /**
   * Also a Gateway whose class does not exist yet: the framework reconciles a resource on a trigger
   * only when one of its own events got through, and its class's arrival must be able to reconcile
   * it. If the class turns out to be another controller's, our finalizer is taken off again ({@link
   * #reconcile}).
   */
  @Override
  boolean accepts(Gateway r) {
    if (r.getSpec() == null || r.getSpec().getGatewayClassName() == null) {
      return false;
    }
    // Looked up once: the class may appear between two lookups.
    var c = gatewayClass(r);
    var finalizers = r.getMetadata().getFinalizers();
    return c == null
        || GatewayClassTranslator.ours(c)
        || (finalizers != null
            && finalizers.contains(ReconcilerUtils.getDefaultFinalizerName(Gateway.class)));
  }

  @Override
  public UpdateControl<Gateway> reconcile(Gateway r, Context<Gateway> context) throws Exception {
    var owner = owner(r);
    if (!ours(r)) {
      // Its class is not (or no longer) ours: what it wrote as ours goes; its status is not ours
      // to write, nor, once its class exists, is a finalizer.
      ctx.writer().deleteAll(owner);
      if (gatewayClass(r) == null) {
        // Its class does not exist yet; another controller's class reconciles nothing here, so
        // it is looked for again.
        return UpdateControl.<Gateway>noUpdate().rescheduleAfter(CLASS_RECHECK);
      }
      var finalizer = ReconcilerUtils.getDefaultFinalizerName(Gateway.class);
      var finalizers = r.getMetadata().getFinalizers();
      if (finalizers != null && finalizers.contains(finalizer)) {
        ctx.client()
            .resources(Gateway.class)
            .inNamespace(r.getMetadata().getNamespace())
            .withName(r.getMetadata().getName())
            .edit(
                g -> {
                  g.getMetadata().getFinalizers().remove(finalizer);
                  return g;
                });
      }
      return UpdateControl.noUpdate();
    }
    var t = translate(r);
    t.warningsWithReason().forEach(w -> ctx.events().warning(r, w.reason(), w.message()));
    var computed = (GatewayStatus) t.status();
    if (!t.ok()) {
      // Not accepted (an address it cannot have): nothing is written, what it wrote before stays.
      ctx.metrics().invalid(r.getKind());
      ctx.events().warning(r, GatewayApi.UNSUPPORTED_ADDRESS, t.errorMessage());
      return update(r, computed);
    }
    try {
      ctx.writer().apply(owner, t.items());
    } catch (NotOwnedException e) {
      ctx.events().warning(r, Reason.KEY_CONFLICT.text(), e.getMessage());
      programmedFalse(computed, r, GatewayApi.INVALID, e.getMessage());
    }
    return update(r, computed);
  }

  @Override
  public ErrorStatusUpdateControl<Gateway> updateErrorStatus(
      Gateway r, Context<Gateway> context, Exception e) {
    ctx.metrics().error(r.getKind());
    var message = etcdMessage(e);
    ctx.events().warning(r, Reason.ETCD_UNAVAILABLE.text(), message);
    var status = r.getStatus() == null ? new GatewayStatus() : r.getStatus();
    if (status.getConditions() == null) {
      status.setConditions(new ArrayList<>());
    }
    var computed = new GatewayStatus();
    computed.setConditions(new ArrayList<>(copy(status.getConditions())));
    computed.setListeners(status.getListeners());
    computed.setAddresses(status.getAddresses());
    programmedFalse(computed, r, GatewayApi.PENDING, message);
    var before = r.getStatus();
    GatewayConditions.merge(
        before == null ? null : before.getConditions(),
        computed.getConditions(),
        GatewayConditions.now());
    if (Objects.equals(before, computed)) {
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    r.setStatus(computed);
    return ErrorStatusUpdateControl.patchStatus(r);
  }

  private static List<Condition> copy(List<Condition> conditions) {
    return conditions.stream()
        .map(c -> new io.fabric8.kubernetes.api.model.ConditionBuilder(c).build())
        .toList();
  }

  private static void programmedFalse(
      GatewayStatus status, Gateway r, String reason, String message) {
    status.getConditions().removeIf(c -> GatewayApi.PROGRAMMED.equals(c.getType()));
    status
        .getConditions()
        .add(
            GatewayApi.condition(
                GatewayApi.PROGRAMMED, false, reason, message, r.getMetadata().getGeneration()));
  }

  /** Writes the status when it differs, transition times kept where conditions stayed. */
  private UpdateControl<Gateway> update(Gateway r, GatewayStatus computed) {
    var previous = r.getStatus();
    var now = GatewayConditions.now();
    GatewayConditions.merge(
        previous == null ? null : previous.getConditions(), computed.getConditions(), now);
    for (var l : computed.getListeners()) {
      var before =
          previous == null || previous.getListeners() == null
              ? null
              : previous.getListeners().stream()
                  .filter(p -> l.getName().equals(p.getName()))
                  .findFirst()
                  .map(p -> p.getConditions())
                  .orElse(null);
      GatewayConditions.merge(before, l.getConditions(), now);
    }
    if (Objects.equals(previous, computed)) {
      return UpdateControl.noUpdate();
    }
    r.setStatus(computed);
    return UpdateControl.patchStatus(r);
  }

  /**
   * The published dataplane Service's addresses (as Ingress status has them), {@code null} when no
   * Service is published.
   */
  private List<GatewayStatusAddress> published() {
    if (ctx.publishService() == null) {
      return null;
    }
    var out = new ArrayList<GatewayStatusAddress>();
    for (var a : IngressReconciler.publishedAddresses(ctx)) {
      if (a.getIp() != null) {
        out.add(new GatewayStatusAddress("IPAddress", a.getIp()));
      } else if (a.getHostname() != null) {
        out.add(new GatewayStatusAddress("Hostname", a.getHostname()));
      }
    }
    return out;
  }

  /** Not used: the status is the translator's ({@link #reconcile}). */
  @Override
  boolean status(Gateway r, Outcome outcome) {
    return false;
  }
}
