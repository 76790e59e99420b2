package io.archway.operator.registry;

import io.archway.model.dns.DnsLookup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Nodes from DNS, resolved by the operator: the service name is {@code host[:port]} (A and AAAA
 * records) or an SRV name ({@code _http._tcp.example.com}), resolved as the dataplane's DNS
 * discovery resolves it ({@link DnsLookup}, shared), again when the records' TTL is over (clamped
 * to {@code minTtl..maxTtl}), or {@code minTtl} after a failure. A failure (no server answers, or
 * the name does not resolve) keeps the last nodes written.
 */
public final class DnsRegistry implements Registry {

  /**
   * @param nameservers the servers asked, in order (empty: the system's)
   */
  public record Settings(
      List<InetSocketAddress> nameservers,
      Duration minTtl,
      Duration maxTtl,
      Duration queryTimeout) {

    public static Settings of(List<InetSocketAddress> nameservers) {
      return new Settings(
          nameservers, Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofSeconds(3));
    }

    public Settings withTtlBounds(Duration min, Duration max) {
      return new Settings(nameservers, min, max, queryTimeout);
    }
  }

  private final Settings settings;
  private final DnsLookup lookup;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            var t = new Thread(r, "archway-registry-dns-timer");
            t.setDaemon(true);
            return t;
          });

  public DnsRegistry(Settings settings) {
    this.settings = settings;
    this.lookup =
        new DnsLookup(settings.nameservers(), settings.queryTimeout(), "archway-registry-dns-io");
  }

  @Override
  public String type() {
    return "dns";
  }

  @Override
  public Watch watch(String serviceName, Listener listener) {
    var w = new NameWatch(serviceName, listener);
    scheduler.execute(w::resolve);
    return w;
  }

  private final class NameWatch implements Watch {
    final String name;
    final Listener listener;
    volatile boolean closed;
    volatile ScheduledFuture<?> next;

    NameWatch(String name, Listener listener) {
      this.name = name;
      this.listener = listener;
    }

    void resolve() {
      if (closed) {
        return;
      }
      lookup
          .resolve(name)
          .whenComplete(
              (r, err) -> {
                if (closed) {
                  return;
                }
                long delayMillis;
                if (err != null) {
                  var cause =
                      err instanceof CompletionException && err.getCause() != null
                          ? err.getCause()
                          : err;
                  listener.failed(
                      "dns: "
                          + name
                          + ": "
                          + cause.getClass().getSimpleName()
                          + ": "
                          + cause.getMessage());
                  delayMillis = settings.minTtl().toMillis();
                } else {
                  listener.nodes(r.nodes());
                  long ttl =
                      Math.max(
                          settings.minTtl().toMillis(),
                          Math.min(r.ttlSeconds() * 1000, settings.maxTtl().toMillis()));
                  delayMillis = ttl;
                }
                try {
                  next =
                      scheduler.schedule(
                          this::resolve, Math.max(delayMillis, 100), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                  // Closed.
                }
              });
    }

    @Override
    public void close() {
      closed = true;
      var n = next;
      if (n != null) {
        n.cancel(false);
      }
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    lookup.close();
  }
}
