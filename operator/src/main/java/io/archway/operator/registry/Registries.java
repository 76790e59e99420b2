package io.archway.operator.registry;

import io.archway.model.UpstreamNode;
import io.archway.operator.translate.RegistryLookup;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The behaviour every registry shares (docs/registries.md): each service a resource names is
 * followed once, however many upstreams name it; its node set is damped ({@link NodeDamper}); an
 * outage keeps the last known nodes and records the error, which the resources' status then names;
 * each registry runs on an executor of its own, so a registry that hangs or fails never delays
 * another's services; a lookup waits for a new service's first answer at most {@code
 * firstAnswerWait}. A published change of a service's nodes, or of its error, is handed to {@link
 * #onChange}, which reconciles the resources that use it.
 */
public final class Registries implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Registries.class);

  /**
   * @param addDelay how long a node set that only adds nodes must hold before it is written
   * @param removeDelay the same for one that takes nodes away
   * @param firstAnswerWait how long a translation waits for a new service's first answer
   */
  public record Settings(Duration addDelay, Duration removeDelay, Duration firstAnswerWait) {
    public static final Settings DEFAULT =
        new Settings(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(2));

    /** A set that keeps changing is written anyway after this long. */
    Duration maxDelay() {
      var longest = addDelay.compareTo(removeDelay) > 0 ? addDelay : removeDelay;
      return longest.multipliedBy(4);
    }
  }

  /** Counts per registry: node sets written, errors reported. */
  public interface Metrics {
    void updated(String registry);

    void failed(String registry);

    Metrics NONE =
        new Metrics() {
          @Override
          public void updated(String registry) {}

          @Override
          public void failed(String registry) {}
        };
  }

  private static final String RESOURCES = "resources";

  /** A service of a registry. */
  public record Service(String type, String name) {}

  private final Settings settings;
  private volatile Metrics metrics = Metrics.NONE;
  private final LongSupplier clock;
  private final Map<String, Registry> registries = new HashMap<>();
  private final Map<String, ScheduledExecutorService> executors = new HashMap<>();
  private final Map<Service, Entry> entries = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, String>> onChange =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  // The services each user (the resources' reconcilers, the seed) wants followed.
  private final Map<String, Set<Service>> wanted = new HashMap<>();
  // The services translations looked up since the resources last said what they want: wanted by
  // the resources until their claim arrives (the next retain(Set)).
  private final Set<Service> lookedUp = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private final class Entry {
    final Service service;
    final NodeDamper damper;
    final CompletableFuture<Void> first = new CompletableFuture<>();
    Registry.Watch watch;
    String error;
    ScheduledFuture<?> tick;
    boolean gone;

    Entry(Service service) {
      this.service = service;
      this.damper =
          new NodeDamper(settings.addDelay(), settings.removeDelay(), settings.maxDelay());
    }
  }

  public Registries(List<Registry> registries, Settings settings) {
    this(registries, settings, System::nanoTime);
  }

  Registries(List<Registry> registries, Settings settings, LongSupplier clock) {
    this.settings = settings;
    this.clock = clock;
    for (var r : registries) {
      this.registries.put(r.type(), r);
      this.executors.put(
          r.type(),
          Executors.newSingleThreadScheduledExecutor(
              task -> {
                var t = new Thread(task, "archway-registry-" + r.type());
                t.setDaemon(true);
                return t;
              }));
    }
  }

  /** An operator without registries. */
  public static Registries none() {
    return new Registries(List.of(), Settings.DEFAULT);
  }

  /** Where the counts per registry go. */
  public void metrics(Metrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Adds a listener called with {@code (type, serviceName)} when what a lookup returns for it
   * changed.
   */
  public void onChange(BiConsumer<String, String> listener) {
    onChange.add(listener);
  }

  /** Whether the operator follows any registry. */
  public boolean any() {
    return !registries.isEmpty();
  }

  /** Whether the operator follows registries of {@code type}. */
  public boolean serves(String type) {
    return registries.containsKey(type);
  }

  /**
   * What the registry of {@code type} has for {@code name}; {@code null} when the operator follows
   * no registry of that type. A service not followed yet is from now on, and its first answer is
   * awaited (bounded).
   */
  public RegistryLookup lookup(String type, String name) {
    if (registries.containsKey(type)) {
      // Wanted until the resources' next retain claims it (or not): another user's retain, made
      // between this lookup and that claim, leaves it followed.
      lookedUp.add(new Service(type, name));
    }
    return lookup(type, name, true);
  }

  /**
   * What the registry of {@code type} has for {@code name} now, without waiting: a service not
   * followed yet is from now on, and its first answer is handed to {@link #onChange} listeners.
   */
  public RegistryLookup peek(String type, String name) {
    return lookup(type, name, false);
  }

  private RegistryLookup lookup(String type, String name, boolean wait) {
    var registry = registries.get(type);
    if (registry == null || closed) {
      return null;
    }
    var entry = entries.computeIfAbsent(new Service(type, name), this::start);
    if (!entry.first.isDone() && wait) {
      try {
        entry.first.get(settings.firstAnswerWait().toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // Reported below as not known yet; its first answer reconciles again.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (entry) {
      var stable = entry.damper.stable();
      var error = entry.error;
      if (stable == null && error == null) {
        error =
            type
                + ": no answer for "
                + name
                + " within "
                + settings.firstAnswerWait().toMillis()
                + " ms";
      }
      return new RegistryLookup(
          type, name, stable == null ? List.of() : stable, stable != null, error);
    }
  }

  /**
   * The resources' reconcilers want exactly {@code wanted} followed (their claim of what their
   * translations looked up): every service no user wants (looked up by a translation and named by
   * no resource any more, say) is no longer followed.
   */
  public synchronized void retain(Set<Service> wanted) {
    lookedUp.clear();
    retain(RESOURCES, wanted);
  }

  /**
   * {@code user} (the seed, say) wants exactly {@code services} followed: those it wanted before
   * and no user wants now are no longer followed. A service another user wants is never stopped,
   * nor one a translation looked up that the resources have not claimed yet ({@link #lookup} counts
   * as a want until their next {@link #retain(Set)}), so one user never stops what a translation is
   * about to claim.
   */
  public synchronized void retain(String user, Set<Service> services) {
    var before = wanted.put(user, Set.copyOf(services));
    var all = new java.util.HashSet<Service>(lookedUp);
    wanted.values().forEach(all::addAll);
    for (var it = entries.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      var dropped = RESOURCES.equals(user) || (before != null && before.contains(e.getKey()));
      if (dropped && !all.contains(e.getKey())) {
        it.remove();
        stop(e.getValue());
      }
    }
  }

  /** The services followed now. */
  public Set<Service> followed() {
    return Set.copyOf(entries.keySet());
  }

  private Entry start(Service service) {
    var entry = new Entry(service);
    // Lookups wait for a service's first answer within this one window only: a registry that
    // fails or hangs delays a translation once per service, not on every reconcile after it.
    entry.first.completeOnTimeout(
        null, settings.firstAnswerWait().toMillis(), TimeUnit.MILLISECONDS);
    var executor = executors.get(service.type());
    var registry = registries.get(service.type());
    executor.execute(
        () -> {
          Registry.Watch watch;
          try {
            watch =
                registry.watch(
                    service.name(),
                    new Registry.Listener() {
                      @Override
                      public void nodes(List<UpstreamNode> nodes) {
                        run(executor, () -> answered(entry, nodes));
                      }

                      @Override
                      public void failed(String error) {
                        run(executor, () -> failedWith(entry, error));
                      }
                    });
          } catch (RuntimeException e) {
            failedWith(entry, service.type() + ": " + e.getMessage());
            return;
          }
          synchronized (entry) {
            if (entry.gone) {
              watch.close();
            } else {
              entry.watch = watch;
            }
          }
        });
    return entry;
  }

  private static void run(ScheduledExecutorService executor, Runnable task) {
    try {
      executor.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Closed.
    }
  }

  private void stop(Entry entry) {
    synchronized (entry) {
      entry.gone = true;
      entry.first.complete(null); // a lookup waiting on it stops waiting
      if (entry.tick != null) {
        entry.tick.cancel(false);
      }
      if (entry.watch != null) {
        entry.watch.close();
      }
    }
  }

  /** A registry's answer; runs on its executor. */
  private void answered(Entry entry, List<UpstreamNode> nodes) {
    boolean recovered;
    NodeDamper.Step step;
    synchronized (entry) {
      if (entry.gone) {
        return;
      }
      recovered = entry.error != null;
      entry.error = null;
      step = entry.damper.offer(nodes, clock.getAsLong());
    }
    if (recovered) {
      log.info("{} registry: {} answers again", entry.service.type(), entry.service.name());
    }
    entry.first.complete(null);
    follow(entry, step, recovered);
  }

  private void tick(Entry entry) {
    NodeDamper.Step step;
    synchronized (entry) {
      if (entry.gone) {
        return;
      }
      step = entry.damper.tick(clock.getAsLong());
    }
    follow(entry, step, false);
  }

  private void follow(Entry entry, NodeDamper.Step step, boolean changed) {
    if (step.publish()) {
      List<UpstreamNode> stable;
      synchronized (entry) {
        stable = entry.damper.stable();
      }
      log.info(
          "{} registry: {} has {} node(s)",
          entry.service.type(),
          entry.service.name(),
          stable.size());
      metrics.updated(entry.service.type());
      changed = true;
    }
    if (step.tick()) {
      var executor = executors.get(entry.service.type());
      long delay = Math.max(0, step.tickAt() - clock.getAsLong());
      synchronized (entry) {
        if (entry.tick != null) {
          entry.tick.cancel(false);
        }
        try {
          entry.tick =
              executor.schedule(
                  () -> tick(entry), delay + 1_000_000, java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          return;
        }
      }
    }
    if (changed) {
      notifyChange(entry);
    }
  }

  /** A registry's failure; runs on its executor. The last known nodes stay. */
  private void failedWith(Entry entry, String error) {
    boolean first;
    synchronized (entry) {
      if (entry.gone) {
        return;
      }
      first = entry.error == null;
      entry.error = error;
    }
    metrics.failed(entry.service.type());
    if (first) {
      log.warn(
          "{} registry: {}: {}; its last known nodes stay written",
          entry.service.type(),
          entry.service.name(),
          error);
      notifyChange(entry);
    }
  }

  private void notifyChange(Entry entry) {
    for (var listener : onChange) {
      try {
        listener.accept(entry.service.type(), entry.service.name());
      } catch (RuntimeException e) {
        log.warn("registry change of {}: {}", entry.service, e.toString());
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    entries.values().forEach(this::stop);
    entries.clear();
    executors.values().forEach(ScheduledExecutorService::shutdownNow);
    registries.values().forEach(Registry::close);
  }
}
