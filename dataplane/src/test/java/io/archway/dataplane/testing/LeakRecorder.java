package io.archway.dataplane.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records every leak Netty's leak detectors report in this JVM, whichever thread (a test's or a
 * server's event loop) leaked, so that a leak fails a test instead of only logging {@code LEAK:}.
 * Installed once per test JVM, before any Netty class that owns a detector is loaded, by {@link
 * LeakDetectionSessionListener}; {@link LeakDetectionExtension} checks after each test and each
 * test class.
 *
 * <p>Netty finds a leak lazily: a leaked object is noticed only once the garbage collector has
 * queued it and the same detector is next asked to track something. {@link #collect()} therefore
 * runs a few rounds of GC, waits for reference processing, and asks every detector to track (and at
 * once close) a probe object. (Zuul's {@code CustomLeakDetector} does the same.)
 */
public final class LeakRecorder {

  private static final int ROUNDS = 3;

  /**
   * A touch hint that marks a leak made on purpose (the recorder's own test): it is recorded like
   * any other, but not logged, so a {@code LEAK:} line in a build's output always means a real one.
   */
  static final String EXPECTED = "an expected leak, made by LeakRecorderTest";

  private static final List<String> leaks = new CopyOnWriteArrayList<>();
  private static final List<ResourceLeakDetector<?>> detectors = new CopyOnWriteArrayList<>();
  private static volatile boolean installed;

  private LeakRecorder() {}

  /**
   * Installs the recording factory and the strictest level; idempotent. Fails when Netty's buffers
   * already have a detector of their own (something allocated a buffer first): then no leak of a
   * buffer would be seen, and a check that cannot fail must not pass silently.
   */
  public static synchronized void install() {
    if (installed) {
      return;
    }
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }
    Unpooled.buffer(1).release(); // loads AbstractByteBuf, which creates the buffers' detector
    installed = true;
    if (detectors.stream().noneMatch(d -> d instanceof Recording r && r.forBuffers)) {
      throw new IllegalStateException(
          "Netty's ByteBuf leak detector was created before the leak recorder was installed;"
              + " buffer leaks would go unseen");
    }
  }

  /**
   * Forces the detectors to report what the garbage collector has found, and returns (and forgets)
   * every leak reported since the last call, each as Netty's report: the resource type and the
   * access records of the leaked object.
   */
  public static List<String> collect() {
    return collect(ROUNDS);
  }

  /**
   * {@link #collect()} with {@code rounds} rounds of GC and probing: after each test two (each is a
   * full GC), where a leak made by the test is found in the first.
   */
  static List<String> collect(int rounds) {
    if (!installed) {
      install();
    }
    for (int i = 0; i < rounds; i++) {
      gc();
      probe();
    }
    return take();
  }

  /** Returns (and forgets) the leaks reported so far, without forcing a GC. */
  public static List<String> take() {
    var out = new ArrayList<String>();
    for (var l : leaks) {
      out.add(l);
      leaks.remove(l);
    }
    return out;
  }

  /** A GC, then a wait until a phantom reference of ours was queued: references were processed. */
  private static void gc() {
    var queue = new ReferenceQueue<Object>();
    var ref = new PhantomReference<>(new Object(), queue);
    System.gc();
    try {
      queue.remove(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Reference.reachabilityFence(ref);
  }

  /**
   * Netty reports queued leaks when a detector tracks a new object: track (and close) a probe in
   * every detector, and allocate from the pooled allocator, whose buffers some code paths wrap.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void probe() {
    for (var d : detectors) {
      Object probe = new Object();
      ResourceLeakTracker t = ((ResourceLeakDetector) d).track(probe);
      if (t != null) {
        t.close(probe);
      }
    }
    ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(8);
    b.release();
  }

  static void record(String leak) {
    leaks.add(leak);
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval, long maxActive) {
      return newResourceLeakDetector(resource, samplingInterval);
    }

    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval) {
      var d = new Recording<T>(resource, samplingInterval);
      detectors.add(d);
      return d;
    }
  }

  private static final class Recording<T> extends ResourceLeakDetector<T> {
    final boolean forBuffers;

    Recording(Class<T> resource, int samplingInterval) {
      super(resource, samplingInterval);
      forBuffers = resource == ByteBuf.class;
    }

    @Override
    protected boolean needReport() {
      return true; // report even when the logger is quiet
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      if (!records.contains(EXPECTED)) {
        super.reportTracedLeak(resourceType, records);
      }
      record("LEAK: " + resourceType + ".release() was not called" + records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      super.reportUntracedLeak(resourceType);
      record("LEAK: " + resourceType + ".release() was not called (no access records)");
    }
  }
}
