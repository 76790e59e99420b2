package io.archway.operator.reconciler;

import io.archway.model.sink.NotOwnedException;
import io.archway.model.sink.Owner;
import io.archway.operator.translate.Claim;
import io.archway.operator.translate.Translation;
import io.archway.operator.translate.Translators;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.ReconcilerUtils;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcile every kind shares: translate the resource against the caches, refuse it with a
 * precise status when it is wrong (what it wrote before stays), otherwise write what changed to
 * etcd and delete what it no longer wants; on deletion (finalizer), delete its keys. An etcd
 * failure is thrown, so the framework retries with backoff, and reported as {@code
 * Programmed=False} by {@link #updateErrorStatus}.
 */
abstract class ResourceReconciler<R extends HasMetadata> implements Reconciler<R>, Cleaner<R> {

  private static final Logger LOG = LoggerFactory.getLogger(ResourceReconciler.class);

  protected final OperatorContext ctx;
  final Trigger<R> trigger = new Trigger<>();

  ResourceReconciler(OperatorContext ctx) {
    this.ctx = ctx;
  }

  /** What the resource translates to. */
  abstract Translation translate(R r);

  /**
   * Whether resources of this kind claim hosts and paths (ApisixRoute, Ingress): then the cache's
   * adds, updates and deletes are kept in {@link Caches#claims}, and a reconcile checks its claims
   * against the older ones there.
   */
  boolean claimsRoutes() {
    return false;
  }

  /** Whether this operator serves the resource (its ingress class). */
  abstract boolean ours(R r);

  /**
   * Whether the resource's own events reach this reconciler at all: when it is ours, or carries our
   * finalizer (it was ours: its keys must go when it goes). So the framework's finalizer never
   * lands on a resource of another controller's class.
   */
  boolean accepts(R r) {
    var finalizers = r.getMetadata().getFinalizers();
    return ours(r)
        || (finalizers != null
            && finalizers.contains(ReconcilerUtils.getDefaultFinalizerName(r.getClass())));
  }

  /** Records the outcome in the resource's status; returns whether the status changed. */
  abstract boolean status(R r, Outcome outcome);

  /** What a reconcile came to, for the status. */
  record Outcome(
      boolean accepted,
      Reason acceptedReason,
      String acceptedMessage,
      boolean programmed,
      Reason programmedReason,
      String programmedMessage,
      List<String> keys) {}

  private volatile IndexerResourceCache<R> cache;

  @Override
  public List<EventSource<?, R>> prepareEventSources(EventSourceContext<R> context) {
    cache = context.getPrimaryCache();
    if (claimsRoutes()) {
      return List.of(
          trigger, new Deletes<R>(this::deleted), new ClaimFeed<R>(ctx.caches().claims()));
    }
    // A resource gone without its finalizer (or after cleanup: then all of this is a no-op) has
    // its keys deleted and its bookkeeping dropped, so that a route its claims held back is
    // reconciled again at once.
    return List.of(trigger, new Deletes<R>(this::deleted));
  }

  private void deleted(R r) {
    ctx.writer().deleted(owner(r));
    if (claimsRoutes()) {
      // Before the routes it held back are reconciled again (forget): the framework runs event
      // sources in no set order, so the claim feed may not have seen the delete yet.
      ctx.caches().claims().remove(r);
    }
    forget(r);
  }

  /** Every resource of this kind, from the controller's own cache; none before it started. */
  List<? extends HasMetadata> all() {
    var c = cache;
    return c == null || !trigger.isRunning() ? List.of() : c.list().toList();
  }

  @Override
  public UpdateControl<R> reconcile(R r, Context<R> context) throws Exception {
    var owner = owner(r);
    if (!ours(r)) {
      // Moved to another ingress class: what it wrote as ours goes.
      ctx.writer().deleteAll(owner);
      return UpdateControl.noUpdate();
    }
    var t = translate(r);
    var claims = Translators.claims(r, ctx.caches());
    if (claimsRoutes()) {
      ctx.caches().claims().check(r, claims, t);
    }
    claimsChanged(r, claims);
    t.warningsWithReason().forEach(w -> ctx.events().warning(r, w.reason(), w.message()));
    var refusal = t.refusal();
    if (refusal.isPresent()) {
      ctx.metrics().invalid(r.getKind());
      var reason = Reason.of(refusal.get());
      if (reason == Reason.CONFLICT) {
        ctx.conflicted().put(References.key(r), () -> trigger.fire(r));
      } else {
        ctx.conflicted().remove(References.key(r));
      }
      ctx.events().warning(r, reason.text(), t.errorMessage());
      var changed =
          status(
              r,
              new Outcome(
                  false,
                  reason,
                  t.errorMessage(),
                  false,
                  reason,
                  "not written: the resource is not accepted; what it wrote before, if anything,"
                      + " is still served",
                  null));
      return changed ? UpdateControl.patchStatus(r) : UpdateControl.noUpdate();
    }
    ctx.conflicted().remove(References.key(r));
    EtcdWriterResult applied;
    try {
      var a = ctx.writer().apply(owner, t.items());
      applied = new EtcdWriterResult(a.keys(), a.created() + a.updated() + a.deleted());
    } catch (NotOwnedException e) {
      ctx.events().warning(r, Reason.KEY_CONFLICT.text(), e.getMessage());
      var changed =
          status(
              r,
              new Outcome(
                  true,
                  Reason.VALID,
                  accepted(t),
                  false,
                  Reason.KEY_CONFLICT,
                  e.getMessage(),
                  null));
      return changed ? UpdateControl.patchStatus(r) : UpdateControl.noUpdate();
    }
    if (applied.changes() > 0) {
      LOG.debug("{} {}: {} etcd change(s)", r.getKind(), name(r), applied.changes());
    }
    var changed =
        status(
            r,
            new Outcome(
                true,
                Reason.VALID,
                accepted(t),
                true,
                Reason.WRITTEN,
                applied.keys().size() + " key(s) in etcd",
                applied.keys()));
    return changed ? UpdateControl.patchStatus(r) : UpdateControl.noUpdate();
  }

  /**
   * When what a resource claims changes (or it goes), the resources refused for a conflict may be
   * free now: they are reconciled again.
   */
  private void claimsChanged(R r, List<Claim> claims) {
    var key = References.key(r);
    var before = claims.isEmpty() ? ctx.claims().remove(key) : ctx.claims().put(key, claims);
    if (!claims.equals(before == null ? List.of() : before)) {
      ctx.conflicted()
          .forEach(
              (k, fire) -> {
                if (!k.equals(key)) {
                  fire.run();
                }
              });
    }
  }

  private record EtcdWriterResult(List<String> keys, int changes) {}

  private static String accepted(Translation t) {
    return t.warnings().isEmpty()
        ? "valid"
        : "valid, with warnings: " + String.join("; ", t.warnings());
  }

  @Override
  public DeleteControl cleanup(R r, Context<R> context) throws Exception {
    ctx.writer().deleteAll(owner(r));
    forget(r);
    return DeleteControl.defaultDelete();
  }

  /** Drops what is kept about a resource that is gone: its events, conflict and claims. */
  private void forget(R r) {
    ctx.events().forget(r);
    ctx.conflicted().remove(References.key(r));
    claimsChanged(r, List.of());
  }

  @Override
  public ErrorStatusUpdateControl<R> updateErrorStatus(R r, Context<R> context, Exception e) {
    if (gone(r, e)) {
      // The resource went while it was reconciled (its status patch found nothing): no status to
      // write, nothing to retry, and not an etcd failure. Its keys go with its delete (Deletes).
      LOG.debug("{} {}: gone before its status was written", r.getKind(), name(r));
      return ErrorStatusUpdateControl.<R>noStatusUpdate().withNoRetry();
    }
    ctx.metrics().error(r.getKind());
    var message = etcdMessage(e);
    LOG.debug("{} {}: reconcile failed", r.getKind(), name(r), e);
    ctx.events().warning(r, Reason.ETCD_UNAVAILABLE.text(), message);
    LOG.warn("{} {}: {}", r.getKind(), name(r), message);
    var changed =
        status(
            r,
            new Outcome(
                true, Reason.VALID, "valid", false, Reason.ETCD_UNAVAILABLE, message, null));
    return changed
        ? ErrorStatusUpdateControl.patchStatus(r)
        : ErrorStatusUpdateControl.noStatusUpdate();
  }

  /** Whether the failure is the API server's 404 for {@code r} itself: it is gone. */
  static boolean gone(HasMetadata r, Exception e) {
    var m = r.getMetadata();
    // The request's URL, as fabric8 writes it into the message when it has no request metadata.
    var path =
        (m.getNamespace() == null ? "" : "/namespaces/" + m.getNamespace())
            + "/"
            + r.getPlural()
            + "/"
            + m.getName();
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof io.fabric8.kubernetes.client.KubernetesClientException k
          && k.getCode() == 404) {
        if (k.getName() != null
            ? m.getName().equals(k.getName())
                && java.util.Objects.equals(m.getNamespace(), k.getNamespace())
                && r.getPlural().equals(k.getResourcePlural())
            : k.getMessage() != null
                && (k.getMessage().contains(path + ". ")
                    || k.getMessage().contains(path + "/status. "))) {
          return true;
        }
      }
    }
    return false;
  }

  static String etcdMessage(Exception e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    var detail =
        c instanceof TimeoutException
            ? c.getMessage()
            : c.getClass().getSimpleName() + ": " + c.getMessage();
    return "etcd unavailable (" + detail + "); retrying with backoff";
  }

  static Owner owner(HasMetadata r) {
    var m = r.getMetadata();
    return new Owner(
        r.getKind(),
        m.getNamespace() == null ? "_cluster" : m.getNamespace(),
        m.getName(),
        m.getUid() == null ? "unknown" : m.getUid());
  }

  static String name(HasMetadata r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }
}
