package io.archway.operator.seed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.Service;
import io.archway.model.Upstream;
import io.archway.model.UpstreamNode;
import io.archway.model.ValidationException;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.sink.Owner;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigSource;
import io.archway.model.source.ConfigState;
import io.archway.operator.registry.Registries;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * apisix-seed's job for config written without Kubernetes (the Admin API, etcdctl): upstreams
 * (standalone {@code upstreams}, and inline in {@code routes} and {@code services}) whose {@code
 * discovery_type} names a registry the operator follows get that registry's nodes written into the
 * same etcd object, as apisix-seed writes them: {@code nodes} filled, {@code discovery_type} and
 * {@code service_name} renamed {@code _discovery_type} and {@code _service_name} (an object already
 * so marked is followed too, so a restart picks up where it was). Everything else in the object
 * stays as written.
 *
 * <p>The objects come from one etcd watch on the prefix (the model's {@link ConfigSource}: resumed
 * at its revision, re-read whole on compaction or restore). The services are followed through the
 * operator's {@link Registries}, as for custom resources: same damping, outages keep the last nodes
 * written. A write is a compare-and-swap on the object's mod revision, so an Admin API write made
 * meanwhile is never overwritten: on a miss the object is read again and the nodes put into what it
 * holds now. Objects with Archway's owner labels (written from custom resources) are never touched,
 * nor any object that names no registry the operator follows. All state lives on one thread.
 *
 * <p>Failures never pile up: a key has at most one retry pending, its delay doubling up to a
 * minute; an etcd that cannot be reached ends the pass, and the keys it had still to write are
 * tried again by one resync, also backed off; a refusal (permission denied) is logged once per key.
 * {@link #fence()} stops every write at once (the Lease is lost: another replica seeds now).
 */
public final class Seeder implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Seeder.class);

  /** The seed's name among the users of {@link Registries}. */
  static final String USER = "seed";

  private static final int MAX_ATTEMPTS = 5;
  private static final long RETRY_MILLIS = 1000;
  private static final long MAX_RETRY_MILLIS = 60_000;

  private final ConfigSource source;
  private final EtcdConfigSink sink;
  private final Registries registries;
  private final ScheduledExecutorService loop;
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong conflicts = new AtomicLong();

  // Owned by `loop`: the objects seeded, the service each follows, the objects of each service.
  private final Map<Key, Registries.Service> seeded = new HashMap<>();
  private final Map<Registries.Service, Set<Key>> byService = new HashMap<>();
  // Owned by `loop`: at most one pending retry per key; the keys a lost etcd left to write.
  private final Map<Key, Retry> retries = new HashMap<>();
  private final Set<Key> refused = new HashSet<>();
  private final Set<Key> resync = new LinkedHashSet<>();
  private ScheduledFuture<?> resyncTask;
  private int resyncFailures;
  private volatile int size;
  private boolean closed;
  private volatile boolean fenced;
  private volatile WriteHook beforeWrite = key -> {};

  /** Runs between the read of an object and the compare-and-swap of its nodes (for tests). */
  interface WriteHook {
    void run(Key key) throws Exception;
  }

  /** A key's failures in a row and its one pending retry ({@code null} while none is). */
  private record Retry(int failures, ScheduledFuture<?> pending) {}

  /** What one attempt to seed a key came to. */
  private enum Outcome {
    DONE,
    /** Try this key again later (lost to other writers, refused for now). */
    RETRY,
    /** etcd cannot be reached: the pass ends. */
    UNREACHABLE
  }

  /**
   * @param source the etcd watch on the prefix {@code sink} writes under
   * @param sink where the nodes are written
   * @param registries the registries followed; the caller closes them after the seeder
   */
  public Seeder(ConfigSource source, EtcdConfigSink sink, Registries registries) {
    this.source = source;
    this.sink = sink;
    this.registries = registries;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              var t = new Thread(task, "archway-seed");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts watching etcd and the registries; returns at once. */
  public void start() {
    registries.onChange((type, name) -> run(() -> changed(new Registries.Service(type, name))));
    source.start(
        new ConfigListener() {
          @Override
          public void onState(ConfigState state) {
            run(() -> replaceAll(state.items()));
          }

          @Override
          public void onChanges(List<ConfigChange> changes, long revision) {
            run(() -> changes.forEach(Seeder.this::apply));
          }
        });
  }

  /**
   * Stops every write from now on, a compare-and-swap about to be made included: this replica lost
   * its Lease and another one seeds. Returns at once, from any thread; {@link #close} still
   * follows.
   */
  public void fence() {
    fenced = true;
  }

  void beforeWrite(WriteHook hook) {
    beforeWrite = hook;
  }

  /** Node sets written into etcd. */
  public long writes() {
    return writes.get();
  }

  /** Writes that lost a compare-and-swap to another writer (then read again and redone). */
  public long conflicts() {
    return conflicts.get();
  }

  /** The retries pending now (at most one per object; for tests). */
  int pendingRetries() throws Exception {
    return loop.submit(
            () ->
                (int)
                    retries.values().stream()
                        .filter(r -> r.pending() != null && !r.pending().isDone())
                        .count())
        .get(10, TimeUnit.SECONDS);
  }

  /** The objects seeded now. */
  public int objects() {
    return size;
  }

  @Override
  public void close() {
    if (loop.isShutdown()) {
      return;
    }
    source.close();
    try {
      loop.submit(
              () -> {
                closed = true;
                retries.values().forEach(r -> cancel(r.pending()));
                retries.clear();
                cancel(resyncTask);
                registries.retain(USER, Set.of());
              })
          .get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("seed: close did not finish cleanly: {}", e.toString());
    }
    loop.shutdownNow();
  }

  private void run(Runnable task) {
    schedule(task, 0);
  }

  private ScheduledFuture<?> schedule(Runnable task, long millis) {
    try {
      return loop.schedule(
          () -> {
            if (!closed && !fenced) {
              task.run();
            }
          },
          millis,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return null; // closed
    }
  }

  private static void cancel(ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  // ---- on the loop thread -------------------------------------------------------------------

  private void replaceAll(Map<Key, io.archway.model.source.ConfigItem> items) {
    var services = new HashSet<>(byService.keySet());
    var before = new HashMap<>(seeded);
    seeded.clear();
    byService.clear();
    items.forEach(
        (key, item) -> {
          var service = service(item.value());
          if (service != null) {
            follow(key, service);
          }
        });
    before.keySet().stream().filter(k -> !seeded.containsKey(k)).forEach(this::forget);
    refused.clear();
    followed(!services.equals(byService.keySet()));
    if (!before.equals(seeded)) {
      log.info("seed: {} object(s) name a registry (etcd read whole)", seeded.size());
    }
    pass(seeded.keySet());
  }

  private void apply(ConfigChange change) {
    var key = change.key();
    var before = seeded.get(key);
    var service = change instanceof ConfigChange.Put put ? service(put.item().value()) : null;
    refused.remove(key);
    if (before != null && !before.equals(service)) {
      log.info("seed: {} no longer follows {} {}", key, before.type(), before.name());
    }
    boolean servicesChanged = false;
    if (before != null && !before.equals(service)) {
      servicesChanged |= unfollow(key, before);
      if (service == null) {
        forget(key);
      }
    }
    if (service != null && !service.equals(before)) {
      servicesChanged |= follow(key, service);
    }
    followed(servicesChanged);
    if (service != null) {
      pass(List.of(key));
    }
  }

  /** Adds the key to its service's; whether the service is new. */
  private boolean follow(Key key, Registries.Service service) {
    seeded.put(key, service);
    var keys = byService.computeIfAbsent(service, s -> new LinkedHashSet<>());
    keys.add(key);
    return keys.size() == 1;
  }

  /** Takes the key from its service's; whether the service is no longer named. */
  private boolean unfollow(Key key, Registries.Service service) {
    seeded.remove(key);
    var keys = byService.get(service);
    if (keys == null) {
      return false;
    }
    keys.remove(key);
    if (keys.isEmpty()) {
      byService.remove(service);
      return true;
    }
    return false;
  }

  /** A key no longer seeded: its retry, if any, is dropped. */
  private void forget(Key key) {
    var retry = retries.remove(key);
    if (retry != null) {
      cancel(retry.pending());
    }
    resync.remove(key);
  }

  /**
   * Tells the registries which services the seeded objects name, when that changed (a bulk import
   * of objects naming one service retains once, not once per object).
   */
  private void followed(boolean servicesChanged) {
    size = seeded.size();
    if (servicesChanged) {
      registries.retain(USER, Set.copyOf(byService.keySet()));
    }
  }

  private void changed(Registries.Service service) {
    var keys = byService.get(service);
    if (keys != null) {
      pass(keys);
    }
  }

  /**
   * Seeds {@code keys} one after the other; an etcd that cannot be reached ends the pass, and the
   * keys left (that one included) wait for one resync.
   */
  private void pass(java.util.Collection<Key> keys) {
    for (var it = List.copyOf(keys).iterator(); it.hasNext(); ) {
      var key = it.next();
      if (closed || fenced) {
        return;
      }
      if (seed(key) == Outcome.UNREACHABLE) {
        resync.add(key);
        it.forEachRemaining(resync::add);
        if (resyncTask == null) {
          long delay = backoff(++resyncFailures);
          log.warn(
              "seed: etcd unreachable; {} object(s) to write again in {} ms", resync.size(), delay);
          resyncTask = schedule(this::resync, delay);
        }
        return;
      }
    }
  }

  private void resync() {
    resyncTask = null;
    var keys = List.copyOf(resync);
    resync.clear();
    pass(keys);
    if (resyncTask == null) {
      resyncFailures = 0;
    }
  }

  /**
   * The registry service the object's upstream names, when it is one to seed: an upstream of a
   * route, a service or itself, not Archway's own, naming a registry the operator follows.
   */
  private Registries.Service service(ConfigObject obj) {
    if (archways(Owner.of(obj.labels()))) {
      return null;
    }
    Upstream up =
        switch (obj) {
          case Upstream u -> u;
          case Route r -> r.upstream();
          case Service s -> s.upstream();
          default -> null;
        };
    if (up == null) {
      return null;
    }
    var type = up.discoveryType() != null ? up.discoveryType() : up.resolvedDiscoveryType();
    var name = up.serviceName() != null ? up.serviceName() : up.resolvedServiceName();
    return type != null && name != null && registries.serves(type)
        ? new Registries.Service(type, name)
        : null;
  }

  /**
   * Whether an object is Archway's own, written from a custom resource: it carries the owner labels
   * ({@link Owner#of}, as the sink reads them). The one test for both the watched object and the
   * one read back before a write.
   */
  private static boolean archways(Owner owner) {
    return owner != null;
  }

  /** Puts the service's nodes into the object as etcd holds it now, unless already there. */
  private Outcome seed(Key key) {
    var service = seeded.get(key);
    if (closed || fenced || service == null) {
      return Outcome.DONE;
    }
    var lookup = registries.peek(service.type(), service.name());
    if (lookup == null || !lookup.known()) {
      return Outcome.DONE; // its first answer comes as a change
    }
    Outcome outcome;
    String error;
    try {
      outcome = write(key, service, lookup.nodes());
      error =
          outcome == Outcome.DONE
              ? null
              : "changed by another writer " + MAX_ATTEMPTS + " times while writing its nodes";
    } catch (ValidationException e) {
      if (refused.add(key)) {
        log.warn("seed: {}: not seeded: {}", key, e.getMessage());
      }
      return Outcome.DONE; // the same again would be refused again: a change brings a new try
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.DONE;
    } catch (Exception e) {
      var cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      if (unreachable(cause)) {
        return Outcome.UNREACHABLE;
      }
      outcome = Outcome.RETRY;
      error = "etcd: " + cause;
    }
    resyncFailures = 0; // etcd answered
    if (outcome == Outcome.DONE) {
      var retry = retries.remove(key);
      if (retry != null) {
        cancel(retry.pending());
        log.info("seed: {}: written after {} failed tries", key, retry.failures());
      }
    } else {
      retryLater(key, error);
    }
    return outcome;
  }

  /** One write of the nodes, read again on each lost compare-and-swap. */
  private Outcome write(Key key, Registries.Service service, List<UpstreamNode> nodes)
      throws Exception {
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      var current = sink.get(key.kind(), key.id());
      if (current.isEmpty() || archways(current.get().owner())) {
        return Outcome.DONE; // deleted, or now Archway's: the watch brings it
      }
      var value = current.get().value();
      var next = seeded(key.kind(), value, service, nodes);
      if (next == null || next.equals(value)) {
        return Outcome.DONE;
      }
      beforeWrite.run(key);
      if (fenced) {
        return Outcome.DONE; // the Lease is lost: another replica writes now
      }
      if (sink.compareAndSwap(key.kind(), key.id(), next, current.get().modRevision())) {
        writes.incrementAndGet();
        log.info(
            "seed: {}: {} node(s) of {} {} written",
            key,
            nodes.size(),
            service.type(),
            service.name());
        return Outcome.DONE;
      }
      conflicts.incrementAndGet();
    }
    return Outcome.RETRY;
  }

  /**
   * One retry pending per key, its delay doubling with each failure in a row; the first failure is
   * logged, the next ones only at debug level.
   */
  private void retryLater(Key key, String error) {
    var before = retries.get(key);
    int failures = before == null ? 1 : before.failures() + 1;
    if (failures == 1) {
      log.warn("seed: {}: {}; trying again, less often while it lasts", key, error);
    } else {
      log.debug("seed: {}: {} ({} failures in a row)", key, error, failures);
    }
    if (before != null && before.pending() != null && !before.pending().isDone()) {
      retries.put(key, new Retry(failures, before.pending()));
      return;
    }
    retries.put(key, new Retry(failures, schedule(() -> retry(key), backoff(failures))));
  }

  private void retry(Key key) {
    var retry = retries.get(key);
    if (retry == null) {
      return;
    }
    retries.put(key, new Retry(retry.failures(), null)); // running: a failure schedules the next
    pass(List.of(key));
  }

  /** 1 s, 2 s, 4 s ... up to a minute. */
  static long backoff(int failures) {
    return Math.min(MAX_RETRY_MILLIS, RETRY_MILLIS << Math.min(Math.max(failures - 1, 0), 16));
  }

  /** Whether etcd could not be reached at all (rather than refusing this write). */
  static boolean unreachable(Throwable e) {
    if (e instanceof TimeoutException) {
      return true;
    }
    if (e instanceof EtcdException ee) {
      return switch (ee.getErrorCode()) {
        case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED -> true;
        default -> false;
      };
    }
    var code = Status.fromThrowable(e).getCode();
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
  }

  /**
   * {@code value} with the nodes put in as apisix-seed puts them; {@code null} when its upstream no
   * longer names {@code service} (another write came first: the watch brings it).
   */
  static JsonNode seeded(
      Kind kind, JsonNode value, Registries.Service service, List<UpstreamNode> nodes) {
    if (!(value instanceof ObjectNode root)) {
      return null;
    }
    var next = root.deepCopy();
    var up = kind == Kind.UPSTREAMS ? next : next.get("upstream");
    if (!(up instanceof ObjectNode upstream)) {
      return null;
    }
    var type = text(upstream, "discovery_type", "_discovery_type");
    var name = text(upstream, "service_name", "_service_name");
    if (!service.type().equals(type) || !service.name().equals(name)) {
      return null;
    }
    upstream.remove("discovery_type");
    upstream.remove("service_name");
    upstream.put("_discovery_type", type);
    upstream.put("_service_name", name);
    upstream.set("nodes", ModelJson.mapper().valueToTree(nodes));
    return next;
  }

  private static String text(ObjectNode up, String field, String mark) {
    var v = up.path(field);
    if (v.isTextual()) {
      return v.asText();
    }
    var m = up.path(mark);
    return m.isTextual() ? m.asText() : null;
  }
}
