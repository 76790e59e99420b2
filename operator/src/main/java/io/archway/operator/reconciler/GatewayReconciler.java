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

  /** The Services of the Gateways whose parameters have a {@code service}. */
  private final GatewayServices services;

  public GatewayReconciler(OperatorContext ctx, GatewayServices services) {
    super(ctx);
    this.services = services;
  }

  @Override
  Translation translate(Gateway r) {
    var counts = attachedRoutes(r);
    return GatewayTranslator.translate(
        r, ctx.caches(), published(), listener -> counts.getOrDefault(listener, 0));
  }

  /** The route kinds installed, whose routes count in {@code attachedRoutes}. */
  private volatile java.util.List<GatewayRouteReconciler<?>> routes = java.util.List.of();

  void routes(java.util.List<GatewayRouteReconciler<?>> routes) {
    this.routes = java.util.List.copyOf(routes);
  }

  /**
   * Per listener name, the routes (every installed route kind) of the controllers' caches that
   * attach to it: routes that are accepted (an invalid route attaches nowhere), counted once per
   * listener through any of their parentRefs to this Gateway. Routes reconcile the Gateways they
   * name when what they tell them changes ({@link GatewayRouteReconciler}).
   */
  private java.util.Map<String, Integer> attachedRoutes(Gateway gw) {
    var counts = new java.util.HashMap<String, Integer>();
    for (var kind : routes) {
      count(kind, gw, counts);
    }
    return counts;
  }

  private static <R extends io.fabric8.kubernetes.api.model.HasMetadata> void count(
      GatewayRouteReconciler<R> kind, Gateway gw, java.util.Map<String, Integer> counts) {
    var className = gw.getSpec() == null ? null : gw.getSpec().getGatewayClassName();
    var classVersion =
        className == null
            ? ""
            : kind.ctx
                .caches()
                .gatewayClass(className)
                .map(c -> c.getMetadata().getUid() + "/" + c.getMetadata().getResourceVersion())
                .orElse("");
    for (var x : kind.all()) {
      @SuppressWarnings("unchecked")
      var route = (R) x;
      var parentRefs = kind.parentRefs(route);
      // A route being deleted is counted no more (its clean-up reconciles this Gateway again).
      if (parentRefs == null || route.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      var ns = route.getMetadata().getNamespace();
      if (parentRefs.stream()
          .noneMatch(
              p ->
                  p != null
                      && p.getName() != null
                      && io.archway.operator.translate.ListenerAttachment.refersTo(p, ns, gw))) {
        continue;
      }
      for (var l :
          kind.ctx
              .caches()
              .memo()
              .attached(route, gw, classVersion, () -> attached(kind, route, parentRefs, gw))) {
        counts.merge(l, 1, Integer::sum);
      }
    }
  }

  /** The names of {@code gw}'s listeners the route attaches to: none when not accepted there. */
  private static <R extends io.fabric8.kubernetes.api.model.HasMetadata>
      java.util.Set<String> attached(
          GatewayRouteReconciler<R> kind,
          R route,
          java.util.List<io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference> parentRefs,
          Gateway gw) {
    var ns = route.getMetadata().getNamespace();
    var accepted =
        kind.computeStatus(route).stream()
            .anyMatch(
                p ->
                    io.archway.operator.translate.ListenerAttachment.refersTo(
                            p.getParentRef(), ns, gw)
                        && p.getConditions().stream()
                            .anyMatch(
                                c ->
                                    GatewayApi.ACCEPTED.equals(c.getType())
                                        && "True".equals(c.getStatus())));
    return accepted
        ? io.archway.operator.translate.ListenerAttachment.attachedListeners(
            kind.kind(), ns, kind.hostnames(route), parentRefs, gw, kind.ctx.caches()::namespace)
        : java.util.Set.of();
  }

  /** Reconciles the HTTPRoutes naming a Gateway ({@code namespace/name}) again. */
  private volatile java.util.function.Consumer<String> routesChanged = key -> {};

  /** What each Gateway last was to its routes: whether ours, generation, served listeners. */
  private final java.util.Map<String, String> shapes =
      new java.util.concurrent.ConcurrentHashMap<>();

  void onChanged(java.util.function.Consumer<String> routesChanged) {
    this.routesChanged = routesChanged;
  }

  /**
   * Records what the Gateway is to its routes; when that changed (it appeared, became or stopped
   * being ours, its spec changed, a listener started or stopped being served), its routes are
   * reconciled again. Its status alone (attachedRoutes) does not: routes do not read it.
   */
  private void shape(Gateway r, String shape) {
    var key = r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    if (!shape.equals(shapes.put(key, shape))) {
      routesChanged.accept(key);
    }
  }

  @Override
  public io.javaoperatorsdk.operator.api.reconciler.DeleteControl cleanup(
      Gateway r, Context<Gateway> context) throws Exception {
    var control = super.cleanup(r, context);
    services.delete(r);
    var key = r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    shapes.remove(key);
    routesChanged.accept(key);
    return control;
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
      shape(r, "not ours");
      // Its class is not (or no longer) ours: what it wrote as ours goes; its status is not ours
      // to write, nor, once its class exists, is a finalizer.
      ctx.writer().deleteAll(owner);
      services.delete(r);
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
    shape(
        r,
        r.getMetadata().getGeneration()
            + " "
            + computed.getListeners().stream()
                .filter(
                    l ->
                        l.getConditions().stream()
                            .anyMatch(
                                c ->
                                    GatewayApi.PROGRAMMED.equals(c.getType())
                                        && "True".equals(c.getStatus())))
                .map(io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus::getName)
                .sorted()
                .toList());
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
    services.apply(r, computed);
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
    return ctx.caches()
        .serviceByKey(ctx.publishService())
        .map(io.archway.operator.translate.GatewayServiceTranslator::addresses)
        .orElse(List.of());
  }

  /** Not used: the status is the translator's ({@link #reconcile}). */
  @Override
  boolean status(Gateway r, Outcome outcome) {
    return false;
  }
}
