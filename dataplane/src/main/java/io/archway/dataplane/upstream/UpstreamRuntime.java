package io.archway.dataplane.upstream;

import io.archway.dataplane.route.RequestVars;
import io.archway.model.HealthChecks;
import io.archway.model.Timeout;
import io.archway.model.Upstream;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * An upstream compiled for traffic: its nodes with their health and load, one balancer per priority
 * group (higher priority first; a lower group serves only when no node above can), and the settings
 * the proxy needs. Built once per change of the upstream; kept, with its balancer positions and
 * node health, while the upstream stays the same.
 */
public final class UpstreamRuntime {

  private static final Predicate<NodeState> ANY = x -> true;

  private final String key;
  private final Upstream raw;
  private final Upstream config;
  private final List<NodeState> nodes;
  private final Balancer[] groups;
  private final HealthChecks checks;
  private final boolean tls;
  private final boolean h2;
  private final int retries;
  private final long retryTimeoutNanos;
  private final BitSet retryOnStatus; // null: none
  private final long retryBackoffNanos;
  private final long connectTimeoutMillis;
  private final long sendTimeoutMillis;
  private final long readTimeoutMillis;
  private final Upstream.KeepalivePool pool;
  private final StickySessions sessions; // null: no session_persistence

  /**
   * @param key where the upstream comes from: {@code upstreams/<id>}, or the route or service that
   *     holds it inline
   * @param previous the runtime this one replaces, whose node health carries over, or {@code null}
   */
  UpstreamRuntime(String key, Upstream raw, int loops, UpstreamRuntime previous) {
    this.key = key;
    this.raw = raw;
    this.config = raw.withDefaults();
    // tls: a stream route's TCP over TLS to the nodes (the stream proxy adds the handler).
    this.tls =
        "https".equals(config.scheme())
            || "grpcs".equals(config.scheme())
            || "tls".equals(config.scheme());
    // http2: true (Archway's addition) makes http h2c and https h2 by ALPN, as grpc and grpcs are.
    this.h2 =
        "grpc".equals(config.scheme())
            || "grpcs".equals(config.scheme())
            || Boolean.TRUE.equals(config.http2());
    int defaultPort = tls ? 443 : 80;
    var written =
        config.nodes() == null ? List.<io.archway.model.UpstreamNode>of() : config.nodes().nodes();
    var list = new ArrayList<NodeState>(written.size());
    for (int i = 0; i < written.size(); i++) {
      list.add(new NodeState(written.get(i), defaultPort, i));
    }
    this.nodes = List.copyOf(list);
    var tlsConfig = config.tls();
    var options =
        !tls
            ? null
            : tlsConfig == null
                ? Endpoint.TlsOptions.TRUSTING
                : new Endpoint.TlsOptions(
                    Boolean.TRUE.equals(tlsConfig.verify()),
                    tlsConfig.clientCert(),
                    tlsConfig.clientKey(),
                    tlsConfig.ca(),
                    tlsConfig.subjectAltNames(),
                    tlsConfig.alpn());
    for (var n : nodes) {
      // match_node_metadata: TLS only to the nodes it names (Istio's tlsMode), plain to the others.
      boolean nodeTls = tls && (tlsConfig == null || tlsConfig.appliesTo(n.node().metadata()));
      String sni = null;
      if (nodeTls && tlsConfig != null && tlsConfig.sni() != null) {
        sni = tlsConfig.sni();
      } else if (nodeTls) {
        sni = "rewrite".equals(config.passHost()) ? config.upstreamHost() : n.host();
        if (sni != null
            && (sni.indexOf(':') >= 0 || Character.isDigit(sni.charAt(sni.length() - 1)))) {
          sni = null; // an IP address is never a server name
        }
      }
      n.endpoint = new Endpoint(n.host(), n.port(), nodeTls, sni, nodeTls ? options : null, h2);
    }
    if (previous != null) {
      var before = new HashMap<String, NodeState>();
      previous.nodes.forEach(n -> before.put(n.address(), n));
      nodes.forEach(
          n -> {
            var old = before.get(n.address());
            if (old != null) {
              n.inherit(old);
            }
          });
    }
    var byPriority = new ArrayList<>(nodes);
    byPriority.sort(Comparator.comparingInt(NodeState::priority).reversed());
    var groupList = new ArrayList<Balancer>();
    var hashKey = hashKey(config);
    for (int i = 0; i < byPriority.size(); ) {
      int p = byPriority.get(i).priority();
      int j = i;
      while (j < byPriority.size() && byPriority.get(j).priority() == p) {
        j++;
      }
      groupList.add(Balancer.of(config.type(), byPriority.subList(i, j), loops, hashKey));
      i = j;
    }
    this.groups = groupList.toArray(Balancer[]::new);
    this.checks = config.checks();
    this.retries = config.retries() != null ? config.retries() : Math.max(0, nodes.size() - 1);
    this.retryTimeoutNanos =
        config.retryTimeout() == null ? 0 : (long) (config.retryTimeout() * 1e9);
    this.retryOnStatus = config.retryOnStatus() == null ? null : new BitSet(600);
    if (retryOnStatus != null) {
      config.retryOnStatus().forEach(retryOnStatus::set);
    }
    // At most a day, so that ten times it is still a long.
    this.retryBackoffNanos =
        config.retryBackoff() == null ? 0 : (long) (Math.min(config.retryBackoff(), 86400) * 1e9);
    var t = config.timeout();
    this.connectTimeoutMillis = millis(t == null ? null : t.connect());
    this.sendTimeoutMillis = millis(t == null ? null : t.send());
    this.readTimeoutMillis = millis(t == null ? null : t.read());
    this.pool = config.keepalivePool();
    this.sessions =
        config.sessionPersistence() == null
            ? null
            : new StickySessions(config.sessionPersistence(), nodes);
  }

  static long millis(Double seconds) {
    return (long) ((seconds == null ? Timeout.DEFAULT_SECONDS : seconds) * 1000);
  }

  private static Function<RequestVars, String> hashKey(Upstream u) {
    var k = u.key();
    if (!"chash".equals(u.type())) {
      return r -> null;
    }
    return switch (u.hashOn()) {
      case "header" -> r -> r.headers().get(k);
      case "cookie" -> r -> r.get("cookie_" + k);
      case "consumer" -> r -> null; // no consumer yet: the client address, as APISIX falls back
      case "vars_combinations" -> r -> combine(k, r);
      default -> r -> r.get(k);
    };
  }

  /** Expands {@code $var} references in a {@code vars_combinations} key. */
  static String combine(String template, RequestVars r) {
    var out = new StringBuilder(template.length() + 16);
    for (int i = 0; i < template.length(); ) {
      char c = template.charAt(i);
      if (c != '$') {
        out.append(c);
        i++;
        continue;
      }
      int j = i + 1;
      while (j < template.length()
          && (Character.isLetterOrDigit(template.charAt(j)) || template.charAt(j) == '_')) {
        j++;
      }
      var v = r.get(template.substring(i + 1, j));
      if (v != null) {
        out.append(v);
      }
      i = j;
    }
    return out.toString();
  }

  public String key() {
    return key;
  }

  Upstream raw() {
    return raw;
  }

  /** The scheme as written ({@code null}: none, the default applies). */
  public String scheme() {
    return raw.scheme();
  }

  public Endpoint endpoint(NodeState n) {
    return n.endpoint;
  }

  public Upstream config() {
    return config;
  }

  public List<NodeState> nodes() {
    return nodes;
  }

  public boolean tls() {
    return tls;
  }

  /** Whether TLS goes to node {@code n} ({@code tls.match_node_metadata} may leave it plain). */
  public boolean tls(NodeState n) {
    return n.endpoint.tls();
  }

  /**
   * HTTP/2 to the nodes: {@code scheme: grpc} and {@code http} with {@code http2: true} cleartext,
   * {@code grpcs} and {@code https} with {@code http2: true} over TLS.
   */
  public boolean h2() {
    return h2;
  }

  public int retries() {
    return retries;
  }

  /** {@code 0}: no bound. */
  public long retryTimeoutNanos() {
    return retryTimeoutNanos;
  }

  /** Whether an answer with {@code status} is retried on another node ({@code retry_on_status}). */
  public boolean retriesOn(int status) {
    return retryOnStatus != null && retryOnStatus.get(status);
  }

  /**
   * After the {@code failures}th failed attempt of a request that began at {@code start} (a
   * nanoTime reading): nanoseconds to wait before the next attempt, or -1 when {@code retries} are
   * spent or the wait would end past {@code retry_timeout}.
   */
  public long retryDelayNanos(int failures, long start) {
    if (failures > retries) {
      return -1;
    }
    long delay = backoff(retryBackoffNanos, failures - 1);
    return retryTimeoutNanos == 0 || System.nanoTime() + delay - start < retryTimeoutNanos
        ? delay
        : -1;
  }

  /**
   * The wait before retry {@code n} (0: the first): {@code retry_backoff} doubled for each retry up
   * to ten times it, jittered down to half of that but never below {@code retry_backoff} itself (a
   * minimum, as Gateway API's {@code retry.backoff} is).
   */
  static long backoff(long base, int n) {
    if (base == 0) {
      return 0;
    }
    long d = n >= 4 ? 10 * base : Math.min(base << n, 10 * base);
    long low = Math.max(base, d / 2);
    return low == d ? d : ThreadLocalRandom.current().nextLong(low, d + 1);
  }

  public long connectTimeoutMillis() {
    return connectTimeoutMillis;
  }

  public long sendTimeoutMillis() {
    return sendTimeoutMillis;
  }

  public long readTimeoutMillis() {
    return readTimeoutMillis;
  }

  public Upstream.KeepalivePool pool() {
    return pool;
  }

  HealthChecks checks() {
    return checks;
  }

  /**
   * The node for this attempt: a healthy one not tried yet, from the highest priority group that
   * has one. When every node is unhealthy, health is ignored (all are used). {@code null} when no
   * node is left. {@code tried} is {@code null} until an attempt failed (the common case costs no
   * allocation).
   */
  public NodeState pick(RequestVars request, BitSet tried) {
    if (sessions != null) {
      var pinned = sessions.pinned(request, tried);
      if (pinned != null) {
        return pinned;
      }
    }
    Predicate<NodeState> healthyUntried =
        tried == null ? NodeState::healthy : x -> x.healthy() && !tried.get(x.index());
    for (var g : groups) {
      var n = g.pick(request, healthyUntried);
      if (n != null) {
        return n;
      }
    }
    for (var n : nodes) {
      if (n.healthy()) {
        return null; // healthy nodes exist and were all tried
      }
    }
    Predicate<NodeState> untried = tried == null ? ANY : x -> !tried.get(x.index());
    for (var g : groups) {
      var n = g.pick(request, untried);
      if (n != null) {
        return n;
      }
    }
    return null;
  }

  /**
   * Whether the request's session ({@code session_persistence}) names a node of this upstream that
   * may serve it: healthy, with weight. {@code false} when the upstream has no sessions.
   */
  public boolean holdsSession(RequestVars request) {
    return sessions != null && sessions.pinned(request, null) != null;
  }

  /**
   * On the head of {@code node}'s answer: the session value to send back, when {@code
   * session_persistence} starts or refreshes one (see {@link StickySessions}).
   */
  public void sessionAnswer(RequestVars request, NodeState node, HttpHeaders headers) {
    if (sessions != null) {
      sessions.issue(request, node, headers);
    }
  }

  /** A request starts on {@code node}. */
  public void begin(NodeState node) {
    node.acquire();
  }

  /**
   * The request on {@code node} ended with {@code status} (the upstream's), after {@code micros}.
   * Feeds passive health checks and the ewma balancer.
   */
  public void end(NodeState node, int status, long micros) {
    node.release();
    node.observe(micros);
    var passive = checks == null ? null : checks.passive();
    if (passive == null || !"http".equals(passive.type()) && !"https".equals(passive.type())) {
      return;
    }
    if (passive.unhealthy().httpStatuses().contains(status)) {
      node.failure(passive.unhealthy(), NodeState.Failure.HTTP_STATUS);
    } else if (passive.healthy().httpStatuses().contains(status)) {
      node.success(passive.healthy());
    }
  }

  /** The request on {@code node} ended with no verdict on the node (the client left, ...). */
  public void release(NodeState node) {
    node.release();
  }

  /** The request on {@code node} failed to connect, or timed out. */
  public void failed(NodeState node, NodeState.Failure kind) {
    node.release();
    var passive = checks == null ? null : checks.passive();
    if (passive != null) {
      node.failure(passive.unhealthy(), kind);
    }
  }
}
