package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.support.TlsSockets;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What plugins share across config changes, made on first use and closed with the dataplane: Redis
 * connections (the rate limiters' {@code policy: redis} and {@code redis-cluster}), Kafka producers
 * (kafka-logger), an HTTP client (http-logger), a small pool of threads for their I/O, and counters
 * for {@code /metrics}. Nothing here runs on an event loop.
 */
public final class PluginServices implements AutoCloseable {

  private final PluginMetrics metrics = new PluginMetrics();
  // Weakly: the compiled plugins that use a link hold it; once none does, it is collected and its
  // client closed (RedisLink's cleaner), and the next configuration naming it makes a new one.
  private final Map<String, java.lang.ref.WeakReference<RedisLink>> redis =
      new ConcurrentHashMap<>();
  private final Map<String, KafkaProducer<byte[], byte[]>> producers = new ConcurrentHashMap<>();
  private final Map<String, Object> shared = new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor io = ioThreads();
  private static final AtomicInteger IO_THREADS = new AtomicInteger();
  private volatile HttpClient http;
  private volatile HttpClient httpUnverified;
  private volatile Map<String, ObjectNode> metadata = Map.of();

  private volatile int httpsPort = 443;
  private volatile java.nio.file.Path cacheDirectory = defaultCacheDirectory();
  private volatile GatewayInfo gateway;

  /** The gateway's own facts for the public endpoints, or {@code null} before it listens. */
  public GatewayInfo gateway() {
    return gateway;
  }

  public void gateway(GatewayInfo info) {
    gateway = info;
  }

  private volatile Map<String, Protos.Compiled> protos = Map.of();

  /**
   * The compiled {@code protos} object {@code id} (grpc-transcode's {@code proto_id}), or {@code
   * null}: set by the config compiler before it compiles plugins.
   */
  public Protos.Compiled proto(String id) {
    return protos.get(id);
  }

  public void protos(Map<String, Protos.Compiled> compiled) {
    protos = Map.copyOf(compiled);
  }

  public PluginMetrics metrics() {
    return metrics;
  }

  /** The HTTPS port clients are sent to by {@code redirect: {http_to_https: true}}. */
  public int httpsPort() {
    return httpsPort;
  }

  public void httpsPort(int port) {
    httpsPort = port;
  }

  /**
   * Where proxy-cache keeps its disk zones (one directory each): {@code ARCHWAY_PROXY_CACHE_DIR}
   * when set, else {@code archway-proxy-cache} in the system's temporary directory.
   */
  public static java.nio.file.Path defaultCacheDirectory() {
    var env = System.getenv("ARCHWAY_PROXY_CACHE_DIR");
    return env != null && !env.isBlank()
        ? java.nio.file.Path.of(env)
        : java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "archway-proxy-cache");
  }

  public java.nio.file.Path cacheDirectory() {
    return cacheDirectory;
  }

  public void cacheDirectory(java.nio.file.Path dir) {
    cacheDirectory = dir;
  }

  /** Threads for loggers' batches and other I/O that must stay off the event loops. */
  public ScheduledExecutorService io() {
    return io;
  }

  /**
   * The connection to one Redis server, shared by every configuration that names it, and closed
   * once none does (when the link is collected) or with these services.
   */
  public RedisLink redis(RedisLink.Settings settings) {
    return redis(settings.key(), () -> new RedisLink(settings));
  }

  /**
   * The client of one Redis Cluster, shared by every configuration that names the same nodes, name
   * and settings; kept and closed as the single servers' links are.
   */
  public RedisLink redis(RedisLink.ClusterSettings settings) {
    return redis(settings.key(), () -> new RedisLink(settings));
  }

  private RedisLink redis(String key, java.util.function.Supplier<RedisLink> make) {
    var link = new RedisLink[1];
    redis.compute(
        key,
        (k, ref) -> {
          link[0] = ref == null ? null : ref.get();
          if (link[0] != null) {
            return ref;
          }
          link[0] = make.get();
          return new java.lang.ref.WeakReference<>(link[0]);
        });
    // Entries of links already collected (their clients closed) go as new ones come.
    redis.values().removeIf(r -> r.get() == null);
    return link[0];
  }

  /** A Kafka producer per broker list and settings, shared by every logger that names them. */
  public KafkaProducer<byte[], byte[]> kafka(String key, Properties props) {
    return producers.computeIfAbsent(
        key,
        k -> {
          var p = new Properties();
          p.putAll(props);
          return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        });
  }

  public HttpClient http() {
    var h = http;
    if (h == null) {
      synchronized (this) {
        if (http == null) {
          http =
              HttpClient.newBuilder()
                  .connectTimeout(Duration.ofSeconds(3))
                  .executor(io)
                  .version(HttpClient.Version.HTTP_1_1)
                  .build();
        }
        h = http;
      }
    }
    return h;
  }

  /**
   * An HTTP client that does not verify the server's certificate, for loggers with {@code
   * ssl_verify: false} (APISIX's default for several of them).
   */
  public HttpClient httpUnverified() {
    var h = httpUnverified;
    if (h == null) {
      synchronized (this) {
        if (httpUnverified == null) {
          httpUnverified =
              HttpClient.newBuilder()
                  .connectTimeout(Duration.ofSeconds(3))
                  .executor(io)
                  .version(HttpClient.Version.HTTP_1_1)
                  .sslContext(TlsSockets.trustAllContext())
                  .build();
        }
        h = httpUnverified;
      }
    }
    return h;
  }

  /**
   * The {@code plugin_metadata} of {@code plugin} in the config in force, or {@code null}: read
   * when used (a logger's {@code log_format}), so a change applies without recompiling routes.
   */
  public ObjectNode metadata(String plugin) {
    return metadata.get(plugin);
  }

  /** Every plugin's metadata, set by the config compiler on each change. */
  public void metadata(Map<String, ObjectNode> byPlugin) {
    metadata = Map.copyOf(byPlugin);
  }

  /**
   * A value shared by every configuration with the same key across config changes (limit-count's
   * {@code group} counters); closed with the services when it is {@link AutoCloseable}.
   */
  @SuppressWarnings("unchecked")
  public <T> T shared(String key, java.util.function.Supplier<T> make) {
    return (T) shared.computeIfAbsent(key, k -> make.get());
  }

  @Override
  public void close() {
    for (var v : shared.values()) {
      if (v instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          // closing anyway
        }
      }
    }
    // Work already queued (a logger's last batch, a response being written into a disk cache
    // zone) runs to its end, within a bound; work scheduled for later (retries, timers) does not
    // hold the stop. The links and producers it may use close after it.
    io.shutdown();
    try {
      if (!io.awaitTermination(2, TimeUnit.SECONDS)) {
        io.shutdownNow();
      }
    } catch (InterruptedException e) {
      io.shutdownNow();
      Thread.currentThread().interrupt();
    }
    for (var ref : redis.values()) {
      var link = ref.get();
      if (link != null) {
        link.close();
      }
    }
    producers.values().forEach(p -> p.close(Duration.ofSeconds(1)));
  }

  private static ScheduledThreadPoolExecutor ioThreads() {
    var pool =
        new ScheduledThreadPoolExecutor(
            2,
            r -> {
              var t = new Thread(r, "archway-plugin-io-" + IO_THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    return pool;
  }
}
