package io.archway.operator.registry;

import io.archway.model.UpstreamNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nodes from ZooKeeper in apisix-seed's layout ({@link ZooKeeperNodes}): the service {@code name}
 * is the znode {@code <root>/<name>}; its data, and the data of each of its children (instances
 * that register an ephemeral child each, gone with their session), are the nodes. A missing znode
 * is a service without nodes. Curator keeps one session, reconnects with backoff and rebuilds each
 * cache after a reconnect; while the connection is suspended or lost every followed service reports
 * the error (its last nodes stay written).
 *
 * @see <a href="https://github.com/api7/apisix-seed">apisix-seed</a>
 */
public final class ZooKeeperRegistry implements Registry {
  private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperRegistry.class);

  /**
   * @param connect ZooKeeper's connect string, {@code host:port[,host:port...][/chroot]}
   * @param root the parent znode of the services ({@code /zookeeper}, apisix-seed's default)
   * @param defaultWeight the weight of a node whose data gives none
   */
  public record Settings(
      String connect,
      String root,
      Duration sessionTimeout,
      Duration connectionTimeout,
      int defaultWeight) {

    public static final String DEFAULT_ROOT = "/zookeeper";
    public static final int DEFAULT_WEIGHT = 100;

    public static Settings of(String connect) {
      return new Settings(
          connect, DEFAULT_ROOT, Duration.ofSeconds(30), Duration.ofSeconds(5), DEFAULT_WEIGHT);
    }

    public Settings withRoot(String root) {
      return new Settings(connect, root, sessionTimeout, connectionTimeout, defaultWeight);
    }
  }

  private final Settings settings;
  private final CuratorFramework client;
  private final Set<ServiceWatch> watches = ConcurrentHashMap.newKeySet();

  public ZooKeeperRegistry(Settings settings) {
    if (!settings.root().startsWith("/")) {
      throw new IllegalArgumentException(
          "zookeeper root \"" + settings.root() + "\" (expected: a path starting with /)");
    }
    this.settings = settings;
    client =
        CuratorFrameworkFactory.builder()
            .connectString(settings.connect())
            .sessionTimeoutMs((int) settings.sessionTimeout().toMillis())
            .connectionTimeoutMs((int) settings.connectionTimeout().toMillis())
            .retryPolicy(new ExponentialBackoffRetry(250, 29, 10_000))
            .threadFactory(
                r -> {
                  var t = new Thread(r, "archway-zookeeper");
                  t.setDaemon(true);
                  return t;
                })
            .build();
    client
        .getConnectionStateListenable()
        .addListener(
            (c, state) -> {
              if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
                var why =
                    "zookeeper "
                        + settings.connect()
                        + ": connection "
                        + state.name().toLowerCase(java.util.Locale.ROOT);
                watches.forEach(w -> w.listener.failed(why));
              } else if (state == ConnectionState.RECONNECTED) {
                // The caches resync and report what changed; an unchanged service reports here.
                watches.forEach(ServiceWatch::report);
              }
            });
    client.start();
  }

  @Override
  public String type() {
    return "zookeeper";
  }

  @Override
  public Watch watch(String serviceName, Listener listener) {
    String path;
    try {
      path = ZKPaths.makePath(settings.root(), serviceName);
      org.apache.curator.utils.PathUtils.validatePath(path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "service name \"" + serviceName + "\" is not a znode name: " + e.getMessage());
    }
    var w = new ServiceWatch(path, CuratorCache.build(client, path), listener);
    w.cache
        .listenable()
        .addListener(
            CuratorCacheListener.builder()
                .forAll((type, before, after) -> w.report())
                .forInitialized(
                    () -> {
                      w.initialized = true;
                      w.report();
                    })
                .build());
    watches.add(w);
    w.cache.start();
    if (!client.getZookeeperClient().isConnected()) {
      listener.failed("zookeeper " + settings.connect() + ": not connected");
    }
    return w;
  }

  private final class ServiceWatch implements Watch {
    private final Set<String> badChildren = new java.util.HashSet<>(); // warned of once

    final String path;
    final CuratorCache cache;
    final Listener listener;
    volatile boolean initialized;

    ServiceWatch(String path, CuratorCache cache, Listener listener) {
      this.path = path;
      this.cache = cache;
      this.listener = listener;
    }

    /**
     * The nodes in the cache now: the znode's data, then its children's, by path. Synchronized: the
     * cache's thread and the connection's both report, and each report must be handed on in the
     * order its snapshot was taken. A child whose data does not parse (one instance that registered
     * garbage) is left out with a warning, so the others' changes still go through; the service's
     * own znode failing to parse fails the service (its last nodes stay).
     */
    synchronized void report() {
      if (!initialized) {
        return;
      }
      var found = new ArrayList<ChildData>();
      cache.stream()
          .filter(
              d ->
                  d.getPath().equals(path)
                      || ZKPaths.getPathAndNode(d.getPath()).getPath().equals(path))
          .forEach(found::add);
      found.sort(Comparator.comparing(ChildData::getPath));
      var nodes = new ArrayList<UpstreamNode>();
      for (var d : found) {
        try {
          nodes.addAll(ZooKeeperNodes.parse(d.getData(), settings.defaultWeight()));
        } catch (IllegalArgumentException e) {
          if (d.getPath().equals(path)) {
            listener.failed("zookeeper " + d.getPath() + ": " + e.getMessage());
            return;
          }
          if (badChildren.add(d.getPath())) {
            LOG.warn("zookeeper {}: left out: {}", d.getPath(), e.getMessage());
          }
        }
      }
      badChildren.retainAll(found.stream().map(ChildData::getPath).toList());
      listener.nodes(List.copyOf(nodes));
    }

    @Override
    public void close() {
      watches.remove(this);
      cache.close();
    }
  }

  @Override
  public void close() {
    watches.forEach(w -> w.cache.close());
    watches.clear();
    client.close();
  }
}
