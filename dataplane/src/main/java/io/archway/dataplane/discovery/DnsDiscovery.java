package io.archway.dataplane.discovery;

import io.archway.model.UpstreamNode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.net.UnknownHostException;
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
 * <p>Nothing here blocks an event loop: queries run on Netty's {@link DnsNameResolver} on a loop of
 * its own, answers are applied on a scheduler thread, which resolves each name again when its
 * records' TTL is over (clamped to {@link DnsSettings}), and the config is recompiled ({@code
 * onChange}, on a thread of its own) only when a name's nodes changed, as Kubernetes discovery
 * does. A name that does not resolve has no nodes (its upstream answers 503), logged once per
 * change of state.
 */
public final class DnsDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DnsDiscovery.class);

  private final DnsSettings settings;
  private final Runnable onChange;
  private final Map<String, Entry> entries = new HashMap<>();
  private final AtomicBoolean changePending = new AtomicBoolean();
  private EventLoopGroup loop;
  private DnsNameResolver resolver;
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
    if (resolver != null) {
      return;
    }
    loop =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("archway-dns-io", true), NioIoHandler.newFactory());
    var builder =
        new DnsNameResolverBuilder(loop.next())
            .datagramChannelType(NioDatagramChannel.class)
            .queryTimeoutMillis(settings.queryTimeout().toMillis())
            .resolveCache(NoopDnsCache.INSTANCE)
            .cnameCache(NoopDnsCnameCache.INSTANCE)
            .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
            .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED);
    if (settings.nameservers().isEmpty()) {
      builder.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
    } else {
      builder
          .nameServerProvider(new SequentialDnsServerAddressStreamProvider(settings.nameservers()))
          .searchDomains(List.of())
          .ndots(1)
          .recursionDesired(true);
    }
    resolver = builder.build();
    scheduler =
        Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("archway-dns", true));
    notifier =
        Executors.newSingleThreadScheduledExecutor(
            new DefaultThreadFactory("archway-dns-notify", true));
  }

  /** One resolution of {@code e}; runs on the scheduler. */
  private void resolve(Entry e) {
    var name = e.name;
    if (name.startsWith("_")) {
      var host = name.lastIndexOf(':') > 0 ? name.substring(0, name.lastIndexOf(':')) : name;
      query(host, DnsRecordType.SRV)
          .whenComplete(
              (srv, err) -> {
                if (err != null) {
                  scheduler.execute(() -> apply(e, null, err, 0));
                } else {
                  targets(srv)
                      .whenComplete(
                          (r, err2) -> scheduler.execute(() -> applySrv(e, srv, r, err2)));
                }
              });
      return;
    }
    int colon = name.lastIndexOf(':');
    Integer port = null;
    var host = name;
    if (colon > 0 && name.indexOf(':') == colon) {
      try {
        port = Integer.parseInt(name.substring(colon + 1));
        host = name.substring(0, colon);
      } catch (NumberFormatException ex) {
        apply(e, null, new IllegalArgumentException("port is not a number"), 0);
        return;
      }
    }
    var p = port;
    var a = query(host, DnsRecordType.A);
    var aaaa = query(host, DnsRecordType.AAAA);
    CompletableFuture.allOf(a.exceptionally(x -> null), aaaa.exceptionally(x -> null))
        .whenComplete(
            (v, x) ->
                scheduler.execute(
                    () -> {
                      var answers = new ArrayList<Answer>();
                      Throwable err = null;
                      for (var f : List.of(a, aaaa)) {
                        try {
                          answers.addAll(f.join());
                        } catch (Exception ex) {
                          err = ex.getCause() == null ? ex : ex.getCause();
                        }
                      }
                      if (answers.isEmpty()) {
                        apply(
                            e, null, err == null ? new UnknownHostException("no records") : err, 0);
                        return;
                      }
                      var nodes = new ArrayList<UpstreamNode>();
                      long ttl = Long.MAX_VALUE;
                      for (var ans : answers) {
                        nodes.add(new UpstreamNode(ans.address(), p, 1, null, null));
                        ttl = Math.min(ttl, ans.ttl());
                      }
                      apply(e, nodes, null, ttl);
                    }));
  }

  /** The records of one type for {@code host}, decoded; each record is released here. */
  private CompletableFuture<List<Answer>> query(String host, DnsRecordType type) {
    var out = new CompletableFuture<List<Answer>>();
    Future<List<DnsRecord>> f;
    try {
      f = resolver.resolveAll(new DefaultDnsQuestion(host, type));
    } catch (RuntimeException ex) {
      out.completeExceptionally(ex);
      return out;
    }
    f.addListener(
        done -> {
          if (!done.isSuccess()) {
            out.completeExceptionally(done.cause());
            return;
          }
          @SuppressWarnings("unchecked")
          var records = (List<DnsRecord>) done.getNow();
          var answers = new ArrayList<Answer>();
          try {
            for (var r : records) {
              if (r instanceof DnsRawRecord raw && r.type() == type) {
                var a = Answer.decode(raw, type);
                if (a != null) {
                  answers.add(a);
                }
              }
            }
          } catch (RuntimeException | UnknownHostException ex) {
            out.completeExceptionally(ex);
            return;
          } finally {
            records.forEach(ReferenceCountUtil::release);
          }
          out.complete(answers);
        });
    return out;
  }

  /** The addresses of each SRV target. */
  private CompletableFuture<Map<String, List<Answer>>> targets(List<Answer> srv) {
    var out = new HashMap<String, CompletableFuture<List<Answer>>>();
    for (var s : srv) {
      out.computeIfAbsent(
          s.target(),
          t -> {
            var a = query(t, DnsRecordType.A);
            var aaaa = query(t, DnsRecordType.AAAA);
            return a.exceptionally(x -> List.of())
                .thenCombine(
                    aaaa.exceptionally(x -> List.of()),
                    (x, y) -> {
                      var all = new ArrayList<>(x);
                      all.addAll(y);
                      return (List<Answer>) all;
                    });
          });
    }
    return CompletableFuture.allOf(out.values().toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              var m = new HashMap<String, List<Answer>>();
              out.forEach((k, f) -> m.put(k, f.join()));
              return m;
            });
  }

  private void applySrv(
      Entry e, List<Answer> srv, Map<String, List<Answer>> targets, Throwable err) {
    if (err != null) {
      apply(e, null, err, 0);
      return;
    }
    var nodes = new ArrayList<UpstreamNode>();
    long ttl = Long.MAX_VALUE;
    for (var s : srv) {
      ttl = Math.min(ttl, s.ttl());
      for (var addr : targets.getOrDefault(s.target(), List.of())) {
        ttl = Math.min(ttl, addr.ttl());
        nodes.add(new UpstreamNode(addr.address(), s.port(), s.weight(), -s.priority(), null));
      }
    }
    if (nodes.isEmpty()) {
      apply(e, null, new UnknownHostException("no SRV target resolves"), 0);
    } else {
      apply(e, nodes, null, ttl);
    }
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
    if (resolver != null) {
      resolver.close();
      scheduler.shutdownNow();
      notifier.shutdownNow();
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
