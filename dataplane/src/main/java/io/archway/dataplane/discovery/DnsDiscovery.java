package io.archway.dataplane.discovery;

import io.archway.model.UpstreamNode;
import io.archway.model.dns.DnsLookup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nodes for upstreams with {@code discovery_type: dns}: {@code service_name} {@code host[:port]}
 * resolved to its A and AAAA records, or, for a name starting with {@code _} ({@code
 * _http._tcp.example.com}), to its SRV records (each target's addresses, the record's port and
 * weight, its priority as the node's, negated: a lower SRV priority is preferred) as APISIX does.
 *
 * <p>Nothing here blocks an event loop: queries run on the shared {@link DnsLookup} (Netty's
 * resolver on a loop of its own), answers are applied on a scheduler thread, which resolves each
 * name again when its records' TTL is over (clamped to {@link DnsSettings}), and the config is
 * recompiled ({@code onChange}, on a thread of its own) only when a name's nodes changed, as
 * Kubernetes discovery does. A name that does not resolve has no nodes (its upstream answers 503),
 * logged once per change of state.
 */
public final class DnsDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DnsDiscovery.class);

  private final DnsSettings settings;
  private final Runnable onChange;
  private final Map<String, Entry> entries = new HashMap<>();
  private final AtomicBoolean changePending = new AtomicBoolean();
  private DnsLookup lookup;
  private ScheduledExecutorService scheduler;
  private ScheduledExecutorService notifier;
  private boolean closed;

  private static final class Entry {
    final String name;
    List<UpstreamNode> nodes = List.of();
    String error;
    ScheduledFuture<?> next;
    final CompletableFuture<Void> first = new CompletableFuture<>();
    boolean awaited = true;

    Entry(String name) {
      this.name = name;
    }
  }

  public DnsDiscovery(DnsSettings settings, Runnable onChange) {
    this.settings = settings;
    this.onChange = onChange;
  }

  /**
   * Resolves exactly {@code names} from now on: new ones are resolved (waiting, off any event loop,
   * up to {@link DnsSettings#firstAnswerWait} for their first answers), ones no longer named are
   * forgotten.
   */
  public void retain(Set<String> names) {
    var fresh = new ArrayList<Entry>();
    synchronized (this) {
      if (closed) {
        return;
      }
      entries
          .entrySet()
          .removeIf(
              e -> {
                if (names.contains(e.getKey())) {
                  return false;
                }
                if (e.getValue().next != null) {
                  e.getValue().next.cancel(false);
                }
                return true;
              });
      for (var name : names) {
        if (!entries.containsKey(name)) {
          var entry = new Entry(name);
          entries.put(name, entry);
          fresh.add(entry);
        }
      }
      if (!fresh.isEmpty()) {
        start();
        fresh.forEach(e -> scheduler.execute(() -> resolve(e)));
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    try {
      CompletableFuture.allOf(fresh.stream().map(e -> e.first).toArray(CompletableFuture[]::new))
          .get(settings.firstAnswerWait().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      // Late answers recompile when they come.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      fresh.forEach(e -> e.awaited = false);
    }
  }

  /** The nodes {@code serviceName} resolves to now (none before its first answer). */
  public synchronized List<UpstreamNode> nodes(String serviceName) {
    var e = entries.get(serviceName);
    return e == null ? List.of() : e.nodes;
  }

  private void start() {
    if (lookup != null) {
      return;
    }
    lookup = new DnsLookup(settings.nameservers(), settings.queryTimeout(), "archway-dns-io");
    scheduler =
        Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("archway-dns", true));
    notifier =
        Executors.newSingleThreadScheduledExecutor(
            new DefaultThreadFactory("archway-dns-notify", true));
  }

  /** One resolution of {@code e}; runs on the scheduler. */
  private void resolve(Entry e) {
    lookup
        .resolve(e.name)
        .whenComplete(
            (r, err) ->
                scheduler.execute(
                    () -> {
                      if (err != null) {
                        var cause =
                            err instanceof java.util.concurrent.CompletionException
                                    && err.getCause() != null
                                ? err.getCause()
                                : err;
                        apply(e, null, cause, 0);
                      } else {
                        apply(e, r.nodes(), null, r.ttlSeconds());
                      }
                    }));
  }

  /** An answer (nodes) or a failure ({@code err}) for {@code e}; runs on the scheduler. */
  private void apply(Entry e, List<UpstreamNode> found, Throwable err, long ttlSeconds) {
    boolean changed;
    long delayMillis;
    synchronized (this) {
      if (closed || entries.get(e.name) != e) {
        return;
      }
      var nodes = found == null ? List.<UpstreamNode>of() : sorted(found);
      changed = !nodes.equals(e.nodes);
      e.nodes = nodes;
      if (err != null) {
        var why = err.getClass().getSimpleName() + ": " + err.getMessage();
        if (e.error == null || !sameKind(e.error, why)) {
          log.warn(
              "dns discovery: {} does not resolve ({}); its upstreams have no nodes (503) until it"
                  + " does",
              e.name,
              why);
        }
        e.error = why;
        delayMillis = settings.minTtl().toMillis();
      } else {
        if (e.error != null || changed) {
          log.info("dns discovery: {} resolves to {} node(s)", e.name, nodes.size());
        }
        e.error = null;
        long ttl =
            Math.max(
                settings.minTtl().toSeconds(), Math.min(ttlSeconds, settings.maxTtl().toSeconds()));
        delayMillis = Math.max(settings.minTtl().toMillis(), ttl * 1000);
      }
      e.next =
          scheduler.schedule(() -> resolve(e), Math.max(delayMillis, 100), TimeUnit.MILLISECONDS);
      boolean firstNow = !e.first.isDone();
      e.first.complete(null);
      if (firstNow && e.awaited) {
        // The compile that is waiting reads the nodes itself.
        changed = false;
      }
    }
    if (changed && changePending.compareAndSet(false, true)) {
      notifier.execute(
          () -> {
            changePending.set(false);
            onChange.run();
          });
    }
  }

  private static boolean sameKind(String a, String b) {
    return a.substring(0, a.indexOf(':')).equals(b.substring(0, b.indexOf(':')));
  }

  private static List<UpstreamNode> sorted(List<UpstreamNode> nodes) {
    var out = new ArrayList<>(nodes);
    out.sort(Comparator.comparing(UpstreamNode::address));
    return List.copyOf(out);
  }

  @Override
  public synchronized void close() {
    closed = true;
    entries.clear();
    if (lookup != null) {
      lookup.close();
      scheduler.shutdownNow();
      notifier.shutdownNow();
    }
  }
}
