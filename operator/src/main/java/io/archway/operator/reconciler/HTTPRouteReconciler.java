package io.archway.operator.reconciler;

import io.archway.model.sink.NotOwnedException;
import io.archway.operator.translate.HTTPRouteTranslator;
import io.archway.operator.translate.ListenerAttachment;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * HTTPRoute whose parentRefs name a Gateway of Archway's class (or one that does not exist yet) →
 * its routes in etcd ({@link HTTPRouteTranslator#translate}), and its {@code status.parents}
 * ({@link HTTPRouteTranslator#status}): the entries of other controllers are kept, ours are
 * replaced, and ours for parents it no longer names go. A route that is not accepted (an invalid
 * field) is not served: its keys go. Reconciled again when what it reads changes ({@link
 * HTTPRouteDependents}, {@link Dependents}); when what it contributes to a Gateway's {@code
 * attachedRoutes} changes, that Gateway is reconciled again.
 */
@ControllerConfiguration(name = "httproute")
public final class HTTPRouteReconciler extends ResourceReconciler<HTTPRoute>
    implements Reconciler<HTTPRoute> {

  /** Per route, what it last told its Gateways (parents and their status), to notice a change. */
  private final Map<String, Contribution> contributions = new ConcurrentHashMap<>();

  /** Reconciles a Gateway again (its {@code attachedRoutes}). */
  private volatile Consumer<String> gatewayChanged = key -> {};

  private record Contribution(Set<String> gateways, String what) {}

  public HTTPRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  /**
   * @param gatewayChanged called with {@code namespace/name} of a Gateway to recount
   */
  void onGatewayChanged(Consumer<String> gatewayChanged) {
    this.gatewayChanged = gatewayChanged;
  }

  @Override
  Translation translate(HTTPRoute r) {
    return HTTPRouteTranslator.translate(r, ctx.caches());
  }

  /** Ours when a parentRef names an Archway Gateway, or a Gateway that does not exist (yet). */
  @Override
  boolean ours(HTTPRoute r) {
    var spec = r.getSpec();
    if (spec == null || spec.getParentRefs() == null) {
      return false;
    }
    var ns = r.getMetadata().getNamespace();
    for (var ref : spec.getParentRefs()) {
      if (ref == null || ref.getName() == null || !ListenerAttachment.isGateway(ref)) {
        continue;
      }
      var gw = ctx.caches().gateway(ListenerAttachment.namespace(ref, ns), ref.getName());
      if (gw.isEmpty() || ourClass(gw.get())) {
        return true;
      }
    }
    return false;
  }

  private boolean ourClass(Gateway gw) {
    var name = gw.getSpec() == null ? null : gw.getSpec().getGatewayClassName();
    return name != null
        && ctx.caches()
            .gatewayClass(name)
            .map(
                c ->
                    c.getSpec() != null
                        && HTTPRouteTranslator.CONTROLLER.equals(c.getSpec().getControllerName()))
            .orElse(false);
  }

  @Override
  public UpdateControl<HTTPRoute> reconcile(HTTPRoute r, Context<HTTPRoute> context)
      throws Exception {
    var owner = owner(r);
    var computed = HTTPRouteTranslator.status(r, ctx.caches());
    if (computed.isEmpty()) {
      // No parent is ours (any more): what it wrote goes, and our status entries.
      ctx.writer().deleteAll(owner);
      contributed(r, computed);
      return update(r, computed);
    }
    var t = translate(r);
    t.warningsWithReason().forEach(w -> ctx.events().warning(r, w.reason(), w.message()));
    if (!t.ok()) {
      // Not accepted: the spec has such a route not served.
      ctx.metrics().invalid(r.getKind());
      ctx.writer().deleteAll(owner);
    } else {
      try {
        ctx.writer().apply(owner, t.items());
      } catch (NotOwnedException e) {
        ctx.events().warning(r, Reason.KEY_CONFLICT.text(), e.getMessage());
      }
    }
    contributed(r, computed);
    return update(r, computed);
  }

  /** Our entries in place of the previous ones of ours; other controllers' entries kept. */
  private UpdateControl<HTTPRoute> update(HTTPRoute r, List<RouteParentStatus> ours) {
    var previous = r.getStatus() == null ? null : r.getStatus().getParents();
    var now = GatewayConditions.now();
    var parents = new ArrayList<RouteParentStatus>();
    if (previous != null) {
      for (var p : previous) {
        if (!HTTPRouteTranslator.CONTROLLER.equals(p.getControllerName())) {
          parents.add(p);
        }
      }
    }
    for (var p : ours) {
      var before =
          previous == null
              ? null
              : previous.stream()
                  .filter(o -> HTTPRouteTranslator.CONTROLLER.equals(o.getControllerName()))
                  .filter(o -> Objects.equals(o.getParentRef(), p.getParentRef()))
                  .findFirst()
                  .map(RouteParentStatus::getConditions)
                  .orElse(null);
      GatewayConditions.merge(before, p.getConditions(), now);
      parents.add(p);
    }
    if (Objects.equals(previous == null ? List.of() : previous, parents)) {
      return UpdateControl.noUpdate();
    }
    var status = r.getStatus() == null ? new HTTPRouteStatus() : r.getStatus();
    status.setParents(parents);
    r.setStatus(status);
    return UpdateControl.patchStatus(r);
  }

  /**
   * Records what the route now tells its Gateways; when that changed, the Gateways it named before
   * and now are reconciled again ({@code attachedRoutes}).
   */
  private void contributed(HTTPRoute r, List<RouteParentStatus> ours) {
    var gateways = new HashSet<String>();
    References.of(r).stream()
        .filter(k -> k.startsWith("Gateway/"))
        .forEach(k -> gateways.add(k.substring("Gateway/".length())));
    var what = new StringBuilder();
    what.append(r.getSpec() == null ? null : r.getSpec().getHostnames());
    what.append(r.getSpec() == null ? null : r.getSpec().getParentRefs());
    for (var p : ours) {
      what.append(p.getParentRef());
      for (Condition c : p.getConditions()) {
        // Times aside: only a change of what the condition says matters.
        what.append(new ConditionBuilder(c).withLastTransitionTime(null).build());
      }
    }
    var now = new Contribution(gateways, what.toString());
    var before = contributions.put(References.key(r), now);
    if (!now.equals(before)) {
      var fire = new HashSet<>(gateways);
      if (before != null) {
        fire.addAll(before.gateways());
      }
      fire.forEach(gatewayChanged);
    }
  }

  @Override
  public DeleteControl cleanup(HTTPRoute r, Context<HTTPRoute> context) throws Exception {
    var control = super.cleanup(r, context);
    var before = contributions.remove(References.key(r));
    if (before != null) {
      before.gateways().forEach(gatewayChanged);
    }
    return control;
  }

  @Override
  public ErrorStatusUpdateControl<HTTPRoute> updateErrorStatus(
      HTTPRoute r, Context<HTTPRoute> context, Exception e) {
    // etcd unavailable: retried with backoff; the route's conditions say nothing of etcd.
    ctx.metrics().error(r.getKind());
    ctx.events().warning(r, Reason.ETCD_UNAVAILABLE.text(), etcdMessage(e));
    return ErrorStatusUpdateControl.noStatusUpdate();
  }

  /** Not used: the status is the translator's ({@link #reconcile}). */
  @Override
  boolean status(HTTPRoute r, Outcome outcome) {
    return false;
  }
}
