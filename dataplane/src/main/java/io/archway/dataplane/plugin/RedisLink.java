package io.archway.dataplane.plugin;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Redis server, or one Redis Cluster, through Lettuce, connected on first use without blocking
 * anyone: a request that needs it before the connection is up waits on the connection's future; a
 * failed connect is tried again by the next request after a second, and Lettuce reconnects an
 * established connection by itself (and, for a cluster, follows {@code MOVED} and {@code ASK} and
 * refreshes the slot map when told to).
 */
public final class RedisLink implements AutoCloseable {

  /** Where Redis is, as limit-count's {@code redis_*} fields say ({@code policy: redis}). */
  public record Settings(
      String host, int port, String username, String password, int database, long timeoutMillis) {

    String key() {
      return host + ":" + port + "/" + database + "/" + username + "/" + password;
    }
  }

  /**
   * Where a Redis Cluster is ({@code policy: redis-cluster}): its seed nodes ({@code host:port}),
   * from which Lettuce learns the slot map, and how to speak to every node.
   */
  public record ClusterSettings(
      List<String> nodes,
      String name,
      String password,
      long timeoutMillis,
      boolean ssl,
      boolean sslVerify) {

    public ClusterSettings {
      nodes = List.copyOf(nodes);
      for (var n : nodes) {
        seed(n, false, false, null, 1000);
      }
    }

    String key() {
      return "cluster:"
          + name
          + "/"
          + nodes
          + "/"
          + password
          + "/"
          + timeoutMillis
          + "/"
          + ssl
          + "/"
          + sslVerify;
    }
  }

  /**
   * The connection and when it last failed to connect: apart from the link, so the action that
   * closes an unreachable link's client (a {@link Cleaner}'s) does not hold the link.
   */
  private static final class State {
    volatile CompletableFuture<? extends StatefulConnection<String, String>> connection;
    volatile long failedAt;
  }

  private static final Cleaner CLEANER = Cleaner.create();

  /**
   * Lettuce's threads, shared by every link (a link's client does not shut them down), with
   * reconnects at most a second apart rather than Lettuce's default of up to 30 s: a Redis that
   * comes back after an outage is used again within about a second. While a connection is down,
   * commands are refused at once ({@code REJECT_COMMANDS}) instead of queued until their timeout:
   * each request then takes its {@code allow_degradation} branch without waiting {@code
   * redis_timeout}, as APISIX's refused connection does, and nothing piles up in Lettuce's queue
   * for as long as the outage lasts (found by the chaos suite's Redis outage: every request waited
   * the whole timeout).
   */
  private static final ClientResources RESOURCES =
      DefaultClientResources.builder()
          .reconnectDelay(
              Delay.exponential(
                  Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
          .build();

  private static final AtomicInteger OPEN = new AtomicInteger();

  private final AbstractRedisClient client;
  private final RedisURI uri;
  private final boolean cluster;
  private final State state = new State();
  private final Cleaner.Cleanable cleanable;

  RedisLink(Settings settings) {
    uri =
        RedisURI.builder()
            .withHost(settings.host())
            .withPort(settings.port())
            .withDatabase(settings.database())
            .withTimeout(Duration.ofMillis(settings.timeoutMillis()))
            .build();
    if (settings.password() != null) {
      if (settings.username() != null) {
        uri.setUsername(settings.username());
      }
      uri.setPassword(settings.password().toCharArray());
    }
    var c = RedisClient.create(RESOURCES, uri);
    c.setOptions(
        ClientOptions.builder()
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .build());
    this.client = c;
    this.cluster = false;
    this.cleanable = CLEANER.register(this, closer(client, state));
  }

  RedisLink(ClusterSettings settings) {
    var seeds =
        settings.nodes().stream()
            .map(
                n ->
                    seed(
                        n,
                        settings.ssl(),
                        settings.sslVerify(),
                        settings.password(),
                        settings.timeoutMillis()))
            .toList();
    this.uri = seeds.get(0);
    // The command timeout is the first seed's (RedisClusterClient takes it from there).
    var c = RedisClusterClient.create(RESOURCES, seeds);
    // The slot map is read again when a node answers MOVED or goes away, and every half minute
    // (on Lettuce's own threads), so a resharded or failed-over cluster is followed.
    c.setOptions(
        ClusterClientOptions.builder()
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .topologyRefreshOptions(
                ClusterTopologyRefreshOptions.builder()
                    .enablePeriodicRefresh(Duration.ofSeconds(30))
                    .enableAllAdaptiveRefreshTriggers()
                    .build())
            .build());
    this.client = c;
    this.cluster = true;
    this.cleanable = CLEANER.register(this, closer(client, state));
  }

  /**
   * Closes the connection and shuts the client down: when the dataplane closes, or once no compiled
   * configuration holds the link any more (the plugin instances of the routes that name it are its
   * only holders; {@link PluginServices} keeps it weakly), so a server or cluster no route names
   * any more is let go.
   */
  private static Runnable closer(AbstractRedisClient client, State state) {
    OPEN.incrementAndGet();
    return () -> {
      OPEN.decrementAndGet();
      var c = state.connection;
      if (c != null && c.isDone() && !c.isCompletedExceptionally()) {
        c.join().closeAsync();
      }
      client.shutdownAsync();
    };
  }

  /** How many links have a client not yet closed (for tests). */
  static int open() {
    return OPEN.get();
  }

  /** One {@code host:port} of {@code redis_cluster_nodes} (an IPv6 host in brackets or not). */
  private static RedisURI seed(
      String node, boolean ssl, boolean verify, String password, long timeoutMillis) {
    int colon = node.lastIndexOf(':');
    int port;
    try {
      port = colon < 0 ? -1 : Integer.parseInt(node.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (colon <= 0 || port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "redis_cluster_nodes: \"" + node + "\" (expected: host:port)");
    }
    var host = node.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    var uri =
        RedisURI.builder()
            .withHost(host)
            .withPort(port)
            .withSsl(ssl)
            .withVerifyPeer(verify ? SslVerifyMode.FULL : SslVerifyMode.NONE)
            .withTimeout(Duration.ofMillis(timeoutMillis))
            .build();
    if (password != null && !password.isEmpty()) {
      uri.setPassword(password.toCharArray());
    }
    return uri;
  }

  /** Whether this is a Redis Cluster: keys then carry a hash tag (see {@link #key}). */
  public boolean cluster() {
    return cluster;
  }

  /**
   * The Redis key for {@code id} under {@code namespace}. On a cluster, {@code id} is the key's
   * hash tag: the slot (and so the node) depends on the counter alone, and any further key a script
   * is given for the same counter ({@code namespace + "{" + id + "}" + suffix}) lands in the same
   * slot, as Redis requires of one script's keys. On one server the key stays as it always was.
   */
  public String key(String namespace, String id) {
    return cluster ? namespace + "{" + id + "}" : namespace + id;
  }

  /**
   * A Lua script run by its digest ({@code EVALSHA}), loaded again by {@code EVAL} when Redis does
   * not have it (a restart or a flush): the rate limiters' atomic steps.
   */
  public static final class Script {
    private final String source;
    private final String sha;

    public Script(String source) {
      this.source = source;
      try {
        this.sha =
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-1")
                        .digest(source.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * Runs the script on {@code key} over {@code link}; never completes exceptionally: the value is
     * the script's reply list, or the failure (a refused connection, a timeout, a script error).
     */
    public CompletionStage<Object> run(RedisLink link, String key, String... args) {
      var keys = new String[] {key};
      // On a cluster, Lettuce sends both to the node that serves the key's slot; a node that has
      // not seen the script yet answers NOSCRIPT, and EVAL loads it there.
      return link.commands()
          .thenCompose(
              c ->
                  c.<java.util.List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args)
                      .exceptionallyCompose(
                          err ->
                              unwrap(err) instanceof RedisNoScriptException
                                  ? c.<java.util.List<Object>>eval(
                                      source, ScriptOutputType.MULTI, keys, args)
                                  : CompletableFuture.failedFuture(err)))
          .handle((r, err) -> err != null ? unwrap(err) : r);
    }

    private static Throwable unwrap(Throwable t) {
      return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
          ? t.getCause()
          : t;
    }
  }

  /**
   * The asynchronous commands, once connected: those of one server, or the cluster's, which route
   * each command to the node serving its key.
   */
  public CompletionStage<RedisClusterAsyncCommands<String, String>> commands() {
    return connect()
        .thenApply(
            c ->
                c instanceof StatefulRedisClusterConnection<String, String> cc
                    ? cc.async()
                    : ((StatefulRedisConnection<String, String>) c).async());
  }

  /**
   * The connection to one server, once it is up; a link to a cluster answers with a failure (use
   * {@link #commands()}, which serves both).
   */
  @SuppressWarnings("unchecked")
  public CompletionStage<StatefulRedisConnection<String, String>> connection() {
    if (cluster) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("a Redis Cluster link has no single connection"));
    }
    return connect().thenApply(c -> (StatefulRedisConnection<String, String>) c);
  }

  private CompletableFuture<? extends StatefulConnection<String, String>> connect() {
    var st = state;
    var c = st.connection;
    if (c == null || (c.isCompletedExceptionally() && System.nanoTime() - st.failedAt > 1e9)) {
      synchronized (st) {
        c = st.connection;
        if (c == null || (c.isCompletedExceptionally() && System.nanoTime() - st.failedAt > 1e9)) {
          c =
              client instanceof RedisClusterClient cc
                  // The slot map first, read asynchronously: connectAsync refuses to run
                  // without one, and getPartitions() would read it blocking.
                  ? cc.refreshPartitionsAsync()
                      .toCompletableFuture()
                      .thenCompose(v -> cc.connectAsync(StringCodec.UTF8))
                  : ((RedisClient) client)
                      .connectAsync(StringCodec.UTF8, uri)
                      .toCompletableFuture();
          c.whenComplete(
              (ok, err) -> {
                if (err != null) {
                  st.failedAt = System.nanoTime();
                }
              });
          st.connection = c;
        }
      }
    }
    return c;
  }

  @Override
  public void close() {
    cleanable.clean();
  }
}
