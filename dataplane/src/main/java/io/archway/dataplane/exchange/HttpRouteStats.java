package io.archway.dataplane.exchange;

import io.archway.dataplane.support.Histogram;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One HTTP route's counters: requests by status, latency of whole requests and of the upstream
 * part, body bytes each way. A compiled route carries them, so a request finds them without a
 * lookup; the HTTP adapter writes them on the event loops (lock-free adders) and renders them when
 * scraped. The same route id keeps the same counters across compiles.
 */
public final class HttpRouteStats {

  private final String id;
  // Statuses 100-599 (the codecs let no other through) in arrays, one per class made on its first
  // status: no boxing or map lookup per request, and a route pays only for the classes it answers
  // with. Anything else (a plugin's odd code) goes to the map.
  private final AtomicReferenceArray<AtomicReferenceArray<LongAdder>> classes =
      new AtomicReferenceArray<>(5);
  private final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();

  /** Whole request time. */
  public final Histogram latency = new Histogram();

  /** From sending to the upstream to its last byte. */
  public final Histogram upstreamLatency = new Histogram();

  /** Request body bytes. */
  public final LongAdder bytesIn = new LongAdder();

  /** Response body bytes. */
  public final LongAdder bytesOut = new LongAdder();

  /**
   * Where the config compiler gets each route's counters: the same object for an id until the route
   * leaves the config ({@link #forget}).
   */
  @FunctionalInterface
  public interface Source {

    /** The counters of route {@code id}. */
    HttpRouteStats route(String id);

    /** Route {@code id} is gone from the config: its counters go too (none are kept by default). */
    default void forget(String id) {}
  }

  /**
   * @param id the route's id; {@code ""} for requests no route matched
   */
  public HttpRouteStats(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  /** A request answered with {@code status}, after {@code nanos} in all. */
  public void answered(int status, long nanos) {
    counter(status).increment();
    latency.observe(nanos);
  }

  private LongAdder counter(int status) {
    if (status < 100 || status > 599) {
      return byStatus.computeIfAbsent(status, s -> new LongAdder());
    }
    int c = status / 100 - 1;
    var slots = classes.get(c);
    if (slots == null) {
      var made = new AtomicReferenceArray<LongAdder>(100);
      slots = classes.compareAndExchange(c, null, made);
      if (slots == null) {
        slots = made;
      }
    }
    int i = status % 100;
    var a = slots.get(i);
    if (a == null) {
      var made = new LongAdder();
      a = slots.compareAndExchange(i, null, made);
      if (a == null) {
        a = made;
      }
    }
    return a;
  }

  private LongAdder existing(int status) {
    if (status < 100 || status > 599) {
      return byStatus.get(status);
    }
    var slots = classes.get(status / 100 - 1);
    return slots == null ? null : slots.get(status % 100);
  }

  /**
   * A response went out: its status, the whole request's time, its body bytes, the node's time
   * ({@code 0}: no node answered).
   */
  public void answered(int status, long nanos, long bytesSent, long upstreamNanos) {
    answered(status, nanos);
    bytesOut.add(bytesSent);
    if (upstreamNanos > 0) {
      upstreamLatency.observe(upstreamNanos);
    }
  }

  /** Request body bytes read from the client. */
  public void bodyIn(long n) {
    bytesIn.add(n);
  }

  /** Requests answered with {@code status} so far. */
  public long answered(int status) {
    var a = existing(status);
    return a == null ? 0 : a.sum();
  }

  /** Requests answered so far, by status, in order. */
  public SortedMap<Integer, Long> statuses() {
    var out = new TreeMap<Integer, Long>();
    for (int status = 100; status <= 599; status++) {
      var a = existing(status);
      if (a != null) {
        out.put(status, a.sum());
      }
    }
    byStatus.forEach((status, n) -> out.put(status, n.sum()));
    return out;
  }
}
