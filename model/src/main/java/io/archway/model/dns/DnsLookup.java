package io.archway.model.dns;

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
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * How a DNS discovery name resolves, shared by the dataplane's DNS discovery and the operator's DNS
 * registry: {@code host[:port]} to its A and AAAA records, or, for a name starting with {@code _}
 * ({@code _http._tcp.example.com}), to its SRV records (each target's addresses, the record's port
 * and weight, its priority as the node's, negated: a lower SRV priority is preferred), as APISIX
 * does. Each answer carries the lowest TTL of the records it used. Queries run on Netty's resolver
 * on an event loop of its own, without caches (the caller schedules by TTL); nothing blocks.
 */
public final class DnsLookup implements AutoCloseable {

  /** The nodes a name resolved to, and the lowest TTL (seconds) of the records used. */
  public record Resolved(List<UpstreamNode> nodes, long ttlSeconds) {}

  private final EventLoopGroup loop;
  private final DnsNameResolver resolver;

  /**
   * @param nameservers the servers asked, in order; empty for the system's ({@code
   *     /etc/resolv.conf})
   */
  public DnsLookup(List<InetSocketAddress> nameservers, Duration queryTimeout, String threadName) {
    loop =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory(threadName, true), NioIoHandler.newFactory());
    var builder =
        new DnsNameResolverBuilder(loop.next())
            .datagramChannelType(NioDatagramChannel.class)
            .queryTimeoutMillis(queryTimeout.toMillis())
            .resolveCache(NoopDnsCache.INSTANCE)
            .cnameCache(NoopDnsCnameCache.INSTANCE)
            .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
            .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED);
    if (nameservers.isEmpty()) {
      builder.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
    } else {
      builder
          .nameServerProvider(new SequentialDnsServerAddressStreamProvider(nameservers))
          .searchDomains(List.of())
          .ndots(1)
          .recursionDesired(true);
    }
    resolver = builder.build();
  }

  /**
   * Resolves {@code name}; fails with the resolver's error, or {@link UnknownHostException} when
   * there are no records (or no SRV target resolves), or {@link IllegalArgumentException} for a
   * port that is not a number.
   */
  public CompletableFuture<Resolved> resolve(String name) {
    if (name.startsWith("_")) {
      var host = name.lastIndexOf(':') > 0 ? name.substring(0, name.lastIndexOf(':')) : name;
      return query(host, DnsRecordType.SRV)
          .thenCompose(srv -> targets(srv).thenApply(addresses -> srvNodes(srv, addresses)));
    }
    int colon = name.lastIndexOf(':');
    Integer port = null;
    var host = name;
    if (colon > 0 && name.indexOf(':') == colon) {
      try {
        port = Integer.parseInt(name.substring(colon + 1));
        host = name.substring(0, colon);
      } catch (NumberFormatException ex) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("port is not a number"));
      }
    }
    var p = port;
    var a = query(host, DnsRecordType.A);
    var aaaa = query(host, DnsRecordType.AAAA);
    return CompletableFuture.allOf(a.exceptionally(x -> null), aaaa.exceptionally(x -> null))
        .thenApply(
            v -> {
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
                throw new java.util.concurrent.CompletionException(
                    err == null ? new UnknownHostException("no records") : err);
              }
              var nodes = new ArrayList<UpstreamNode>();
              long ttl = Long.MAX_VALUE;
              for (var ans : answers) {
                nodes.add(new UpstreamNode(ans.address(), p, 1, null, null));
                ttl = Math.min(ttl, ans.ttl());
              }
              return new Resolved(List.copyOf(nodes), ttl);
            });
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
                var ans = Answer.decode(raw, type);
                if (ans != null) {
                  answers.add(ans);
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

  private static Resolved srvNodes(List<Answer> srv, Map<String, List<Answer>> targets) {
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
      throw new java.util.concurrent.CompletionException(
          new UnknownHostException("no SRV target resolves"));
    }
    return new Resolved(List.copyOf(nodes), ttl);
  }

  @Override
  public void close() {
    resolver.close();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
