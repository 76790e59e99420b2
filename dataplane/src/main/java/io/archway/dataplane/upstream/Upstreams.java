package io.archway.dataplane.upstream;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.dataplane.support.Transport;
import io.archway.model.Upstream;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every upstream in force, compiled, with its active health checks. {@link #update} is called once
 * per config change, off the event loops: an upstream whose config is unchanged keeps its runtime
 * (balancer positions, node health, checker); a changed one gets a new runtime that inherits the
 * health of nodes it keeps; connection pools are shared by endpoint and so survive either way.
 */
public final class Upstreams implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Upstreams.class);

  private final Transport transport;
  private final EventLoopGroup loops;
  private final int loopCount;
  private final ConnectionPools pools;
  private final EventLoopGroup checks;
  private Map<String, UpstreamRuntime> current = Map.of();
  private final Map<UpstreamRuntime, HealthChecker> checkers = new HashMap<>();
  private final Map<String, String> tlsProblems = new HashMap<>();

  public Upstreams(Transport transport, EventLoopGroup loops, int loopCount) {
    this.transport = transport;
    this.loops = loops;
    this.loopCount = loopCount;
    this.pools = new ConnectionPools(transport, loopCount);
    this.checks = transport.newGroup(1, "archway-health");
  }

  public ConnectionPools pools() {
    return pools;
  }

  /** The transport of the loops the upstream connections are made on. */
  public Transport transport() {
    return transport;
  }

  /** The runtimes in force by key, as of the last {@link #update}. */
  synchronized Map<String, UpstreamRuntime> current() {
    return current;
  }

  /**
   * Brings the runtimes in line with {@code wanted} (key to upstream as written).
   *
   * @return the runtimes in force now, by key
   */
  public synchronized Map<String, UpstreamRuntime> update(Map<String, Upstream> wanted) {
    var next = new HashMap<String, UpstreamRuntime>(wanted.size() * 2);
    var started = new ArrayList<UpstreamRuntime>();
    wanted.forEach(
        (key, raw) -> {
          var before = current.get(key);
          if (before != null && before.raw().equals(raw)) {
            next.put(key, before);
            return;
          }
          var rt = new UpstreamRuntime(key, raw, loopCount, before);
          next.put(key, rt);
          prepareTls(rt);
          if (rt.checks() != null && rt.checks().active() != null && !rt.nodes().isEmpty()) {
            started.add(rt);
          }
        });
    var kept = new HashSet<UpstreamRuntime>(next.values());
    checkers
        .entrySet()
        .removeIf(
            e -> {
              if (kept.contains(e.getKey())) {
                return false;
              }
              e.getValue().stop();
              return true;
            });
    for (var rt : started) {
      var checker = new HealthChecker(rt, checks, transport, pools);
      checkers.put(rt, checker);
      checker.start();
    }
    current = Map.copyOf(next);
    var endpoints = new HashSet<Endpoint>();
    next.values().forEach(rt -> rt.nodes().forEach(n -> endpoints.add(rt.endpoint(n))));
    pools.retain(endpoints, eventLoops());
    return current;
  }

  /**
   * Makes the TLS client contexts of a new runtime here, as the config is compiled: none at start
   * for a config without TLS upstreams, none on an event loop at a first connection, and settings
   * that cannot be made (a bad client certificate) reported now, naming the upstream.
   */
  private void prepareTls(UpstreamRuntime rt) {
    var endpoints = new ArrayList<Endpoint>(rt.nodes().size());
    rt.nodes().forEach(n -> endpoints.add(rt.endpoint(n)));
    var problem = pools.tls().prepare(endpoints);
    if (problem.isPresent()) {
      tlsProblems.put(rt.key(), problem.get());
      log.warn("{}: {} (its requests answer 502)", rt.key(), problem.get());
    } else {
      tlsProblems.remove(rt.key());
    }
    var active = rt.checks() == null ? null : rt.checks().active();
    if (active != null && "https".equals(active.type())) {
      pools.tls().sslContext(active.httpsVerifyCertificate());
    }
  }

  /** Why the TLS contexts of upstreams in force could not be made, by key (for tests). */
  synchronized Map<String, String> tlsProblems() {
    var out = new HashMap<>(tlsProblems);
    out.keySet().retainAll(current.keySet());
    return out;
  }

  private List<EventLoop> eventLoops() {
    var out = new ArrayList<EventLoop>();
    loops.forEach(e -> out.add((EventLoop) e));
    return out;
  }

  /** Upstreams with health checks, for {@code /v1/healthcheck} and {@code /metrics}. */
  public synchronized List<UpstreamRuntime> checked() {
    return List.copyOf(checkers.keySet());
  }

  /**
   * Node states of every upstream with health checks, as APISIX's control API shows them ({@code
   * /v1/healthcheck}; the Admin API's {@code /apisix/admin/healthcheck} for the Studio): {@code
   * [{"name": key, "type": "http", "nodes": [{"ip", "port", "status": "healthy"|"unhealthy"}]}]}.
   */
  public ArrayNode health() {
    var list = JsonNodeFactory.instance.arrayNode();
    for (var up : checked()) {
      var o = list.addObject();
      o.put("name", up.key());
      o.put("type", up.config().checks().active().type());
      var nodes = o.putArray("nodes");
      for (var n : up.nodes()) {
        var node = nodes.addObject();
        node.put("ip", n.host());
        node.put("port", n.port());
        node.put("status", n.healthy() ? "healthy" : "unhealthy");
      }
    }
    return list;
  }

  @Override
  public synchronized void close() {
    checkers.values().forEach(HealthChecker::stop);
    checkers.clear();
    checks.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
