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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 */
public final class Seeder implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Seeder.class);

  /** The seed's name among the users of {@link Registries}. */
  static final String USER = "seed";

  private static final int MAX_ATTEMPTS = 5;
  private static final long RETRY_MILLIS = 1000;

  private final ConfigSource source;
  private final EtcdConfigSink sink;
  private final Registries registries;
  private final ScheduledExecutorService loop;
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong conflicts = new AtomicLong();

  // Owned by `loop`: the objects seeded and the service each follows.
  private final Map<Key, Registries.Service> seeded = new HashMap<>();
  private volatile int size;
  private boolean closed;
  private volatile WriteHook beforeWrite = key -> {};

  /** Runs between the read of an object and the compare-and-swap of its nodes (for tests). */
  interface WriteHook {
    void run(Key key) throws Exception;
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

  /** The objects seeded now. */
  public int objects() {
    return size;
  }

  @Override
  public void close() {
    source.close();
    try {
      loop.submit(
              () -> {
                closed = true;
                registries.retain(USER, java.util.Set.of());
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
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      // Closed.
    }
  }

  // ---- on the loop thread -------------------------------------------------------------------

  private void replaceAll(Map<Key, io.archway.model.source.ConfigItem> items) {
    var before = new HashMap<>(seeded);
    seeded.clear();
    items.forEach(
        (key, item) -> {
          var service = service(key, item.value());
          if (service != null) {
            seeded.put(key, service);
          }
        });
    followed(before.equals(seeded) ? null : "etcd read whole");
    new HashMap<>(seeded).forEach(this::seed);
  }

  private void apply(ConfigChange change) {
    var key = change.key();
    var before = seeded.remove(key);
    var service = change instanceof ConfigChange.Put put ? service(key, put.item().value()) : null;
    if (service != null) {
      seeded.put(key, service);
    }
    if (before != null && !before.equals(service)) {
      log.info("seed: {} no longer follows {} {}", key, before.type(), before.name());
    }
    followed(null);
    if (service != null) {
      seed(key, service);
    }
  }

  /** Tells the registries which services the seeded objects name. */
  private void followed(String why) {
    if (closed) {
      return;
    }
    registries.retain(USER, new HashSet<>(seeded.values()));
    size = seeded.size();
    if (why != null) {
      log.info("seed: {} object(s) name a registry ({})", seeded.size(), why);
    }
  }

  private void changed(Registries.Service service) {
    new HashMap<>(seeded)
        .forEach(
            (key, s) -> {
              if (s.equals(service)) {
                seed(key, s);
              }
            });
  }

  /**
   * The registry service the object's upstream names, when it is one to seed: an upstream of a
   * route, a service or itself, not Archway's own, naming a registry the operator follows.
   */
  private Registries.Service service(Key key, ConfigObject obj) {
    if (obj.labels() != null && Owner.ARCHWAY.equals(obj.labels().get(Owner.MANAGED_BY))) {
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

  /** Puts the service's nodes into the object as etcd holds it now, unless already there. */
  private void seed(Key key, Registries.Service service) {
    if (closed || !service.equals(seeded.get(key))) {
      return;
    }
    var lookup = registries.peek(service.type(), service.name());
    if (lookup == null || !lookup.known()) {
      return; // its first answer comes as a change
    }
    try {
      for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        var current = sink.get(key.kind(), key.id());
        if (current.isEmpty() || current.get().owner() != null) {
          return; // deleted, or now Archway's: the watch brings it
        }
        var value = current.get().value();
        var next = seeded(key.kind(), value, service, lookup.nodes());
        if (next == null || next.equals(value)) {
          return;
        }
        beforeWrite.run(key);
        if (sink.compareAndSwap(key.kind(), key.id(), next, current.get().modRevision())) {
          writes.incrementAndGet();
          log.info(
              "seed: {}: {} node(s) of {} {} written",
              key,
              lookup.nodes().size(),
              service.type(),
              service.name());
          return;
        }
        conflicts.incrementAndGet();
      }
      log.warn(
          "seed: {}: changed by another writer {} times while writing its nodes; trying again",
          key,
          MAX_ATTEMPTS);
      retryLater(key, service);
    } catch (ValidationException e) {
      log.warn("seed: {}: not seeded: {}", key, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("seed: {}: etcd: {}; trying again", key, e.toString());
      retryLater(key, service);
    }
  }

  private void retryLater(Key key, Registries.Service service) {
    try {
      loop.schedule(() -> seed(key, service), RETRY_MILLIS, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // Closed.
    }
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
