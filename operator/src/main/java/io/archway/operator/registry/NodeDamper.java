package io.archway.operator.registry;

import io.archway.model.UpstreamNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;

/**
 * Damps one service's node set: a set the registry reports is published only once it has held for a
 * window ({@code addDelay} when it only adds nodes or changes weights, {@code removeDelay} when it
 * takes a node away), so a node that flaps in and out, or a registry that reports a half-updated
 * set, does not rewrite etcd on every report. A set that goes back to the published one before its
 * window is over is never published. A registry that never settles still gets its latest set
 * published after {@code maxDelay}. The first set is published at once: there is nothing to damp
 * against. Not thread-safe: one registry's executor drives it. Times are {@link System#nanoTime}
 * values.
 */
final class NodeDamper {

  /** What an offer or a tick decided: whether to publish now, and when to tick again. */
  record Step(boolean publish, long tickAt, boolean tick) {
    static final Step NONE = new Step(false, 0, false);
  }

  private final Duration addDelay;
  private final Duration removeDelay;
  private final Duration maxDelay;
  private List<UpstreamNode> stable;
  private List<UpstreamNode> candidate;
  private long candidateSince;
  private long divergedSince;

  NodeDamper(Duration addDelay, Duration removeDelay, Duration maxDelay) {
    this.addDelay = addDelay;
    this.removeDelay = removeDelay;
    this.maxDelay = maxDelay;
  }

  /** The published nodes; {@code null} before the first report. */
  List<UpstreamNode> stable() {
    return stable;
  }

  /** The registry's latest report, at {@code now}. */
  Step offer(List<UpstreamNode> reported, long now) {
    var nodes = sorted(reported);
    if (stable == null) {
      stable = nodes;
      return new Step(true, 0, false);
    }
    if (nodes.equals(stable)) {
      candidate = null;
      return Step.NONE;
    }
    if (candidate == null) {
      divergedSince = now;
    }
    if (!nodes.equals(candidate)) {
      candidate = nodes;
      candidateSince = now;
    }
    return tick(now);
  }

  /** Publishes the pending set if its window is over; else says when to look again. */
  Step tick(long now) {
    if (candidate == null) {
      return Step.NONE;
    }
    long due =
        Math.min(candidateSince + delay(candidate).toNanos(), divergedSince + maxDelay.toNanos());
    if (now - due >= 0) {
      stable = candidate;
      candidate = null;
      return new Step(true, 0, false);
    }
    return new Step(false, due, true);
  }

  /** A set that takes an address away waits {@code removeDelay}; others {@code addDelay}. */
  private Duration delay(List<UpstreamNode> next) {
    var addresses = new HashSet<String>();
    next.forEach(n -> addresses.add(n.address()));
    for (var n : stable) {
      if (!addresses.contains(n.address())) {
        return removeDelay;
      }
    }
    return addDelay;
  }

  static List<UpstreamNode> sorted(List<UpstreamNode> nodes) {
    var out = new ArrayList<>(nodes);
    out.sort(Comparator.comparing(UpstreamNode::address).thenComparing(UpstreamNode::weight));
    return List.copyOf(out);
  }
}
