package io.archway.dataplane.upstream;

import io.archway.model.HealthChecks;
import io.archway.model.UpstreamNode;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node of one upstream at run time: where it is, its weight, its health and its load. Shared by
 * the event loops, so everything that changes is atomic; health counting follows
 * lua-resty-healthcheck (consecutive successes bring a node back, consecutive failures of one kind
 * take it out; a threshold of 0 turns that kind off).
 */
public final class NodeState {

  /** What went wrong, for the failure counters. */
  public enum Failure {
    HTTP_STATUS,
    TCP,
    TIMEOUT
  }

  private final UpstreamNode node;
  private final String host;
  private final int port;
  private final String address;
  private final int weight;
  private final int index;
  Endpoint endpoint;
  private volatile boolean healthy = true;
  private final AtomicInteger successes = new AtomicInteger();
  private final AtomicInteger httpFailures = new AtomicInteger();
  private final AtomicInteger tcpFailures = new AtomicInteger();
  private final AtomicInteger timeouts = new AtomicInteger();
  private final AtomicInteger active = new AtomicInteger();
  // EWMA of response time in microseconds and when it was last touched, as double bits and nanos.
  private final AtomicLong ewmaBits = new AtomicLong(Double.doubleToRawLongBits(0));
  private volatile long ewmaTouched = System.nanoTime();

  NodeState(UpstreamNode node, int defaultPort, int index) {
    this.node = node;
    this.host = node.host();
    this.port = node.port() == null ? defaultPort : node.port();
    // Logged and counted for every request: made once.
    this.address = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    this.weight = node.weight();
    this.index = index;
  }

  UpstreamNode node() {
    return node;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  int weight() {
    return weight;
  }

  /** The node's position in its upstream's node list. */
  public int index() {
    return index;
  }

  int priority() {
    return node.priorityOrDefault();
  }

  /** {@code host:port}, with brackets around an IPv6 host. */
  public String address() {
    return address;
  }

  public boolean healthy() {
    return healthy;
  }

  int activeRequests() {
    return active.get();
  }

  void acquire() {
    active.incrementAndGet();
  }

  void release() {
    active.decrementAndGet();
  }

  /** A success: resets the failure counters, and brings the node back after enough in a row. */
  void success(HealthChecks.Healthy rule) {
    httpFailures.set(0);
    tcpFailures.set(0);
    timeouts.set(0);
    if (healthy) {
      return;
    }
    int need = rule.successes() == null ? 0 : rule.successes();
    if (need > 0 && successes.incrementAndGet() >= need) {
      healthy = true;
      successes.set(0);
    }
  }

  /** A failure: takes the node out after the threshold of this kind is reached in a row. */
  void failure(HealthChecks.Unhealthy rule, Failure kind) {
    successes.set(0);
    if (!healthy) {
      return;
    }
    var counter =
        switch (kind) {
          case HTTP_STATUS -> httpFailures;
          case TCP -> tcpFailures;
          case TIMEOUT -> timeouts;
        };
    Integer limit =
        switch (kind) {
          case HTTP_STATUS -> rule.httpFailures();
          case TCP -> rule.tcpFailures();
          case TIMEOUT -> rule.timeouts();
        };
    if (limit != null && limit > 0 && counter.incrementAndGet() >= limit) {
      healthy = false;
      httpFailures.set(0);
      tcpFailures.set(0);
      timeouts.set(0);
    }
  }

  /** Starts with the health of a node of the same address in the upstream this one replaces. */
  void inherit(NodeState previous) {
    healthy = previous.healthy;
  }

  private static final double DECAY_NANOS = 10e9;

  /** Folds one response time into the moving average, decaying with time as APISIX's ewma does. */
  void observe(long micros) {
    long now = System.nanoTime();
    double w = Math.exp(-(now - ewmaTouched) / DECAY_NANOS);
    ewmaTouched = now;
    long prev;
    double next;
    do {
      prev = ewmaBits.get();
      next = Double.longBitsToDouble(prev) * w + micros * (1 - w);
    } while (!ewmaBits.compareAndSet(prev, Double.doubleToRawLongBits(next)));
  }

  double ewma() {
    return Double.longBitsToDouble(ewmaBits.get());
  }
}
