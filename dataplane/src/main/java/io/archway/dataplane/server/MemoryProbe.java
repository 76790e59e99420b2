package io.archway.dataplane.server;

import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How full the process's memory is, read off the hot path by {@link Overload}'s sampler: the heap
 * as the last garbage collection left it (what is live, not the garbage since), and direct memory
 * (Netty's own count where it keeps one, plus the JDK's direct buffers) against its limit.
 */
interface MemoryProbe {

  /** Heap in use after the last GC, as a fraction of the most the heap may grow to. */
  double heap();

  /** Direct memory in use, as a fraction of its limit. */
  double direct();

  /** Milliseconds since the JVM started at the end of the last GC ({@code -1}: none yet). */
  long lastGcMillis();

  /** The most the heap may grow to, in bytes: what {@link #heap()} is a fraction of. */
  default long heapLimit() {
    return Runtime.getRuntime().maxMemory();
  }

  /** The direct memory limit in bytes: what {@link #direct()} is a fraction of. */
  default long directLimit() {
    return Math.max(0, PlatformDependent.maxDirectMemory());
  }

  /** The running JVM's figures. */
  static MemoryProbe jvm() {
    return new Jvm();
  }

  final class Jvm implements MemoryProbe {
    private final List<com.sun.management.GarbageCollectorMXBean> collectors =
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .filter(b -> b instanceof com.sun.management.GarbageCollectorMXBean)
            .map(b -> (com.sun.management.GarbageCollectorMXBean) b)
            .toList();
    private final Set<String> heapPools =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .map(p -> p.getName())
            .collect(Collectors.toUnmodifiableSet());
    private final BufferPoolMXBean directPool =
        ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(p -> p.getName().equals("direct"))
            .findFirst()
            .orElse(null);
    private volatile long lastGc = -1;

    @Override
    public double heap() {
      long max = Runtime.getRuntime().maxMemory();
      com.sun.management.GcInfo last = null;
      for (var c : collectors) {
        var info = c.getLastGcInfo();
        if (info != null && (last == null || info.getEndTime() > last.getEndTime())) {
          last = info;
        }
      }
      if (last == null) {
        lastGc = -1;
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (double) max;
      }
      lastGc = last.getEndTime();
      long used = 0;
      for (var e : last.getMemoryUsageAfterGc().entrySet()) {
        if (heapPools.contains(e.getKey())) {
          used += e.getValue().getUsed();
        }
      }
      return used / (double) max;
    }

    @Override
    public double direct() {
      long max = PlatformDependent.maxDirectMemory();
      if (max <= 0) {
        return 0;
      }
      // Netty counts what it allocates without the JDK's cleaner; the JDK counts the rest.
      long used = Math.max(0, PlatformDependent.usedDirectMemory());
      if (directPool != null) {
        used += directPool.getMemoryUsed();
      }
      return used / (double) max;
    }

    @Override
    public long lastGcMillis() {
      return lastGc;
    }
  }
}
