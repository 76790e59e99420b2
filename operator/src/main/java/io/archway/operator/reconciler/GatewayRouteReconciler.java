package io.archway.operator.reconciler;

import io.archway.model.sink.NotOwnedException;
import io.archway.operator.translate.HTTPRouteTranslator;
import io.archway.operator.translate.ListenerAttachment;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
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
 * A Gateway API route (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute) whose parentRefs name a
 * Gateway of Archway's class (or one that does not exist yet) → what its kind's translator writes
 * to etcd, and its {@code status.parents} (the kind's translator's {@code status}): the entries of
 * other controllers are kept, ours are replaced, and ours for parents it no longer names go. A
 * route that is not accepted (an invalid field) is not served: its keys go. Reconciled again when
 * what it reads changes ({@link RouteDependents}, {@link Dependents}); when what it contributes to
 * a Gateway's {@code attachedRoutes} changes, that Gateway is reconciled again. Subclasses say how
 * to read and write the kind's fields.
 */
abstract class GatewayRouteReconciler<R extends HasMetadata> extends ResourceReconciler<R> {

  /** Per route, what it last told its Gateways (parents and their status), to notice a change. */
  private final Map<String, Contribution> contributions = new ConcurrentHashMap<>();

  /** Reconciles a Gateway again (its {@code attachedRoutes}). */
  private volatile Consumer<String> gatewayChanged = key -> {};

  private record Contribution(Set<String> gateways, String what) {}

  GatewayRouteReconciler(OperatorContext ctx) {
    super(ctx);
  }

  /** The kind's name ({@code HTTPRoute}, ...): its controller's cache in {@link Caches}. */
  final String kind() {
    var name = getClass().getSimpleName();
    return name.substring(0, name.length() - "Reconciler".length());
  }

  /** The route's parentRefs (null when none). */
  abstract List<ParentReference> parentRefs(R r);

  /** The route's hostnames ({@code null} for kinds without: TCPRoute, UDPRoute). */
  abstract List<String> hostnames(R r);

  /** Our {@code status.parents} entries, computed by the kind's translator. */
  abstract List<RouteParentStatus> computeStatus(R r);

  /** The {@code status.parents} the route carries (null when none). */
  abstract List<RouteParentStatus> parents(R r);

  /** Sets {@code status.parents} (creating the status when missing). */
  abstract void parents(R r, List<RouteParentStatus> parents);

  /**
   * @param gatewayChanged called with {@code namespace/name} of a Gateway to recount
   */
  void onGatewayChanged(Consumer<String> gatewayChanged) {
    this.gatewayChanged = gatewayChanged;
  }

  /** Ours when a parentRef names an Archway Gateway, or a Gateway that does not exist (yet). */
  @Override
  boolean ours(R r) {
    var refs = parentRefs(r);
    if (refs == null) {
      return false;
    }
    var ns = r.getMetadata().getNamespace();
    for (var ref : refs) {
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

  boolean ourClass(Gateway gw) {
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
  public UpdateControl<R> reconcile(R r, Context<R> context) throws Exception {
    var owner = owner(r);
    var computed = computeStatus(r);
    if (computed.isEmpty()) {
      // No parent is ours (any more): what it wrote goes, and our status entries.
      ctx.writer().deleteAll(owner);
      contributed(r, computed);
      return update(r, computed, context);
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
    return update(r, computed, context);
  }

  /**
   * Writes our entries in place of the previous ones of ours, other controllers' entries kept, when
   * that changes them. Not through the framework's status patch: it does not keep what it wrote, so
   * the reconcile that follows at once (the Gateway's recount fires one) read the route from the
   * informer, which may not have had that status yet: our entries looked new (their {@code
   * lastTransitionTime} reset to now) and the patch, computed against that older copy, could drop
   * another controller's entry written meanwhile. The status is put with the route's {@code
   * resourceVersion} (on a conflict the route is read again from the cache and merged again), and
   * what was written is cached for the next reconcile.
   */
  private UpdateControl<R> update(R r, List<RouteParentStatus> ours, Context<R> context) {
    if (merged(r, ours) != null) {
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(
          r,
          context,
          current -> {
            var parents = merged(current, ours);
            if (parents != null) {
              parents(current, parents);
            }
            return current;
          });
    }
    return UpdateControl.noUpdate();
  }

  /**
   * The route's {@code status.parents} with our entries in place of its previous ones of ours
   * (their transition times kept while their status stays), or {@code null} when that is what it
   * has.
   */
  private List<RouteParentStatus> merged(R r, List<RouteParentStatus> ours) {
    var previous = parents(r);
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
    return Objects.equals(previous == null ? List.of() : previous, parents) ? null : parents;
  }

  /**
   * Records what the route now tells its Gateways; when that changed, the Gateways it named before
   * and now are reconciled again ({@code attachedRoutes}).
   */
  private void contributed(R r, List<RouteParentStatus> ours) {
    var gateways = new HashSet<String>();
    References.of(r).stream()
        .filter(k -> k.startsWith("Gateway/"))
        .forEach(k -> gateways.add(k.substring("Gateway/".length())));
    var what = new StringBuilder();
    what.append(hostnames(r));
    what.append(parentRefs(r));
    // The namespace's labels decide the listeners whose allowedRoutes select it: a label going
    // can take a listener away while the route stays accepted through another.
    ctx.caches()
        .namespace(r.getMetadata().getNamespace())
        .map(n -> n.getMetadata().getLabels())
        .ifPresent(what::append);
    for (var p : ours) {
      what.append(p.getParentRef());
      for (Condition c : p.getConditions()) {
        // What attachedRoutes counts: whether the route is accepted there (not its generation,
        // messages or references: a route's path changing does not recount its Gateways).
        if (io.archway.operator.translate.GatewayApi.ACCEPTED.equals(c.getType())) {
          what.append(c.getStatus()).append(c.getReason());
        }
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
  public DeleteControl cleanup(R r, Context<R> context) throws Exception {
    var control = super.cleanup(r, context);
    var before = contributions.remove(References.key(r));
    ctx.caches().memo().forget(r);
    if (before != null) {
      before.gateways().forEach(gatewayChanged);
    }
    return control;
  }

  @Override
  public ErrorStatusUpdateControl<R> updateErrorStatus(R r, Context<R> context, Exception e) {
    if (gone(r, e)) {
      // Deleted while reconciled (its status update found nothing): nothing to retry, no etcd
      // failure. Its keys go with its delete.
      return ErrorStatusUpdateControl.<R>noStatusUpdate().withNoRetry();
    }
    // etcd unavailable: retried with backoff; the route's conditions say nothing of etcd.
    ctx.metrics().error(r.getKind());
    ctx.events().warning(r, Reason.ETCD_UNAVAILABLE.text(), etcdMessage(e));
    return ErrorStatusUpdateControl.noStatusUpdate();
  }

  /** Not used: the status is the translator's ({@link #reconcile}). */
  @Override
  boolean status(R r, Outcome outcome) {
    return false;
  }
}
