package io.archway.dataplane.upstream;

import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.support.LoopThread;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Picks a node of one priority group. {@code eligible} says which nodes may be picked now (healthy,
 * not yet tried by this request); a balancer never returns another.
 */
sealed interface Balancer {

  NodeState pick(RequestVars request, Predicate<NodeState> eligible);

  static Balancer of(
      String type, List<NodeState> nodes, int loops, Function<RequestVars, String> hashKey) {
    return switch (type) {
      case "chash" -> new ConsistentHash(nodes, hashKey);
      case "least_conn" -> new LeastConn(nodes);
      case "ewma" -> new Ewma(nodes);
      // roundrobin, and "none" (APISIX's examples for Kafka and Redis upstreams)
      default -> new RoundRobin(nodes, loops);
    };
  }

  /**
   * nginx's smooth weighted round robin: each pick adds every node's weight to its current weight,
   * takes the largest, and subtracts the total from it. Spreads a 5:1 split as a a b a a a, not a a
   * a a a b. One position per event loop, so the loops take no locks; threads off the loops share
   * one guarded slot.
   */
  final class RoundRobin implements Balancer {
    private final NodeState[] nodes;
    private final int[][] current;

    RoundRobin(List<NodeState> nodes, int loops) {
      this.nodes = nodes.toArray(NodeState[]::new);
      this.current = new int[loops + 1][this.nodes.length];
    }

    @Override
    public NodeState pick(RequestVars request, Predicate<NodeState> eligible) {
      int loop = LoopThread.current();
      if (loop >= 0 && loop < current.length - 1) {
        return pick(current[loop], eligible);
      }
      var shared = current[current.length - 1];
      synchronized (shared) {
        return pick(shared, eligible);
      }
    }

    private NodeState pick(int[] cw, Predicate<NodeState> eligible) {
      int best = -1;
      int total = 0;
      for (int i = 0; i < nodes.length; i++) {
        var n = nodes[i];
        if (n.weight() == 0 || !eligible.test(n)) {
          continue;
        }
        cw[i] += n.weight();
        total += n.weight();
        if (best < 0 || cw[i] > cw[best]) {
          best = i;
        }
      }
      if (best < 0) {
        return null;
      }
      cw[best] -= total;
      return nodes[best];
    }
  }

  /**
   * A consistent hash ring with 160 points per unit of weight (weights divided by their common
   * divisor): adding one node to n moves about 1/(n+1) of the keys. A request without the key
   * hashes its client address, as APISIX does.
   */
  final class ConsistentHash implements Balancer {
    static final int POINTS_PER_WEIGHT = 160;
    private static final int MAX_POINTS = 1 << 20;
    private final int[] hashes;
    private final NodeState[] owners;
    private final Function<RequestVars, String> hashKey;

    ConsistentHash(List<NodeState> nodes, Function<RequestVars, String> hashKey) {
      this.hashKey = hashKey;
      int gcd = 0;
      long total = 0;
      for (var n : nodes) {
        gcd = gcd(gcd, n.weight());
      }
      for (var n : nodes) {
        total += n.weight() == 0 ? 0 : (long) n.weight() / gcd * POINTS_PER_WEIGHT;
      }
      double scale = total > MAX_POINTS ? (double) MAX_POINTS / total : 1;
      long[] points = new long[(int) Math.min(total, MAX_POINTS) + nodes.size()];
      var byIndex = nodes.toArray(NodeState[]::new);
      int count = 0;
      for (int i = 0; i < byIndex.length; i++) {
        var n = byIndex[i];
        if (n.weight() == 0) {
          continue;
        }
        int replicas = Math.max(1, (int) (n.weight() / gcd * POINTS_PER_WEIGHT * scale));
        for (int r = 0; r < replicas && count < points.length; r++) {
          int h = murmur3(n.address() + "#" + r);
          // Sort by hash, keep the node index in the low bits.
          points[count++] = ((long) h << 32) | i;
        }
      }
      points = Arrays.copyOf(points, count);
      Arrays.sort(points);
      hashes = new int[count];
      owners = new NodeState[count];
      for (int i = 0; i < count; i++) {
        hashes[i] = (int) (points[i] >> 32);
        owners[i] = byIndex[(int) points[i]];
      }
    }

    @Override
    public NodeState pick(RequestVars request, Predicate<NodeState> eligible) {
      if (hashes.length == 0) {
        return null;
      }
      var key = hashKey.apply(request);
      if (key == null || key.isEmpty()) {
        key = request.remoteAddr();
      }
      int at = Arrays.binarySearch(hashes, murmur3(key));
      if (at < 0) {
        at = -at - 1;
      }
      for (int i = 0; i < hashes.length; i++) {
        var n = owners[(at + i) % hashes.length];
        if (eligible.test(n)) {
          return n;
        }
      }
      return null;
    }

    private static int gcd(int a, int b) {
      while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
      }
      return a == 0 ? 1 : a;
    }

    static int murmur3(String s) {
      var data = s.getBytes(StandardCharsets.UTF_8);
      int h = 0x9747b28c;
      int len = data.length;
      int i = 0;
      for (; i + 4 <= len; i += 4) {
        int k =
            (data[i] & 0xff)
                | (data[i + 1] & 0xff) << 8
                | (data[i + 2] & 0xff) << 16
                | (data[i + 3] & 0xff) << 24;
        k *= 0xcc9e2d51;
        k = Integer.rotateLeft(k, 15);
        k *= 0x1b873593;
        h ^= k;
        h = Integer.rotateLeft(h, 13);
        h = h * 5 + 0xe6546b64;
      }
      int k = 0;
      switch (len & 3) {
        case 3:
          k ^= (data[i + 2] & 0xff) << 16;
        // fall through
        case 2:
          k ^= (data[i + 1] & 0xff) << 8;
        // fall through
        case 1:
          k ^= data[i] & 0xff;
          k *= 0xcc9e2d51;
          k = Integer.rotateLeft(k, 15);
          k *= 0x1b873593;
          h ^= k;
        // fall through
        default:
          break;
      }
      h ^= len;
      h ^= h >>> 16;
      h *= 0x85ebca6b;
      h ^= h >>> 13;
      h *= 0xc2b2ae35;
      h ^= h >>> 16;
      return h;
    }
  }

  /**
   * The node with the fewest requests in flight per unit of weight; ties broken from a random start
   * so that equal nodes share the load.
   */
  final class LeastConn implements Balancer {
    private final NodeState[] nodes;

    LeastConn(List<NodeState> nodes) {
      this.nodes = nodes.toArray(NodeState[]::new);
    }

    @Override
    public NodeState pick(RequestVars request, Predicate<NodeState> eligible) {
      NodeState best = null;
      double bestScore = Double.MAX_VALUE;
      int start = nodes.length == 0 ? 0 : ThreadLocalRandom.current().nextInt(nodes.length);
      for (int k = 0; k < nodes.length; k++) {
        var n = nodes[(start + k) % nodes.length];
        if (n.weight() == 0 || !eligible.test(n)) {
          continue;
        }
        double score = (n.activeRequests() + 1) / (double) n.weight();
        if (score < bestScore) {
          bestScore = score;
          best = n;
        }
      }
      return best;
    }
  }

  /**
   * APISIX's ewma: the power of two choices between random eligible nodes, preferring the lower
   * decaying average response time, scaled by the requests in flight.
   */
  final class Ewma implements Balancer {
    private final NodeState[] nodes;

    Ewma(List<NodeState> nodes) {
      this.nodes = nodes.toArray(NodeState[]::new);
    }

    @Override
    public NodeState pick(RequestVars request, Predicate<NodeState> eligible) {
      int count = 0;
      for (var n : nodes) {
        if (n.weight() > 0 && eligible.test(n)) {
          count++;
        }
      }
      if (count == 0) {
        return null;
      }
      var rnd = ThreadLocalRandom.current();
      int first = rnd.nextInt(count);
      int second = count == 1 ? first : (first + 1 + rnd.nextInt(count - 1)) % count;
      NodeState a = null;
      NodeState b = null;
      int rank = 0;
      for (var n : nodes) {
        if (n.weight() > 0 && eligible.test(n)) {
          if (rank == first) {
            a = n;
          }
          if (rank == second) {
            b = n;
          }
          rank++;
        }
      }
      return score(a) <= score(b) ? a : b;
    }

    private static double score(NodeState n) {
      return (n.ewma() + 1) * (n.activeRequests() + 1);
    }
  }
}
