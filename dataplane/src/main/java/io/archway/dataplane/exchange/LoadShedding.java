package io.archway.dataplane.exchange;

import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the request path sees of the server's overload state (the server decides it, from memory
 * figures; see {@code server/Overload}): whether new work is shed, and, while it is, the request
 * bodies still arriving on connections admitted before. Those stop being read, as Envoy's overload
 * manager and nginx do: an adapter about to read more of a body {@linkplain #park parks} instead,
 * with the bytes it holds for it; the server {@linkplain #resetLargest resets} the ones holding the
 * most until memory is back under its low-water mark (Envoy's {@code reset_high_memory_stream}),
 * and the rest read again once shedding ends. Costs one volatile read per body read while not
 * shedding; parked readers are kept in a concurrent map only while shedding.
 */
public final class LoadShedding {

  /** Most requests reset in one round, as Envoy caps its own (a round every sample). */
  public static final int MAX_RESETS_PER_ROUND = 50;

  /**
   * A request whose body is being read: an HTTP/1.1 connection or an HTTP/2 stream. Both calls come
   * on its event loop, each at most once per park, and only while it is still parked (it calls
   * {@link #leave} when its request ends first).
   */
  public interface Reader {
    /** Its event loop, where both calls below run. */
    Executor eventLoop();

    /** Shedding is over: read the body again. */
    void resumeReads();

    /**
     * Memory is still past the low-water mark and this request holds the most: give it up (503 with
     * {@code Connection: close} if nothing was answered yet, else close or reset).
     */
    void resetForMemory();
  }

  private final Map<Reader, Long> parked = new ConcurrentHashMap<>();
  private final LongAdder shedRequests = new LongAdder();
  private final LongAdder parks = new LongAdder();
  private final LongAdder resets = new LongAdder();
  private final LongAdder resetBytes = new LongAdder();
  private volatile boolean shedding;

  /** Whether new work is shed (memory past its high-water mark). One volatile read. */
  public boolean shedding() {
    return shedding;
  }

  /** Whether this new request is to be shed, counting it if so. */
  public boolean shedRequest() {
    if (!shedding) {
      return false;
    }
    shedRequests.increment();
    return true;
  }

  /**
   * On the reader's event loop, before it reads more of a request body: {@code true} if it must not
   * (it is parked, holding {@code heldBytes} for the body, until resumed or reset).
   */
  public boolean park(Reader reader, long heldBytes) {
    if (!shedding) {
      return false;
    }
    if (parked.put(reader, heldBytes) == null) {
      parks.increment();
    }
    // Shedding may have ended meanwhile, its resume having missed this reader: whoever removes
    // the entry owns it (here: read on; there: resume it).
    return shedding || parked.remove(reader) == null;
  }

  /** The reader's request ended (or its connection closed) while parked: forget it. */
  public void leave(Reader reader) {
    parked.remove(reader);
  }

  /** For the server: new work is shed from now on, and body reads pause. */
  public void startShedding() {
    shedding = true;
  }

  /** For the server: shedding ends; every parked reader reads again, on its own loop. */
  public void stopShedding() {
    shedding = false;
    for (var r : parked.keySet()) {
      if (parked.remove(r) != null) {
        r.eventLoop().execute(r::resumeReads);
      }
    }
  }

  /**
   * For the server: resets the parked readers holding the most, largest first, until they held
   * {@code bytes} in all or {@link #MAX_RESETS_PER_ROUND} were reset; readers holding nothing are
   * left. Returns the bytes they held.
   */
  public long resetLargest(long bytes) {
    var all = new ArrayList<Map.Entry<Reader, Long>>(parked.entrySet());
    all.sort(Map.Entry.<Reader, Long>comparingByValue().reversed());
    long freed = 0;
    int n = 0;
    for (var e : all) {
      if (freed >= bytes || n >= MAX_RESETS_PER_ROUND || e.getValue() <= 0) {
        break;
      }
      var r = e.getKey();
      if (parked.remove(r) != null) {
        freed += e.getValue();
        n++;
        r.eventLoop().execute(r::resetForMemory);
      }
    }
    resets.add(n);
    resetBytes.add(freed);
    return freed;
  }

  /** Requests answered 503 because new work was shed. */
  public long shedRequests() {
    return shedRequests.sum();
  }

  /** Readers parked now. */
  public int parked() {
    return parked.size();
  }

  /** Times a body read was paused. */
  public long parks() {
    return parks.sum();
  }

  /** Requests reset to free memory. */
  public long resets() {
    return resets.sum();
  }

  /** Body bytes those requests held. */
  public long resetBytes() {
    return resetBytes.sum();
  }
}
