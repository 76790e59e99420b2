package io.archway.dataplane.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringFixedBufferRingAllocator;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;

/**
 * io_uring reads into buffers the kernel picks when data arrives (a provided-buffer ring per event
 * loop), not into a buffer allocated when the read is submitted.
 *
 * <p>Without a ring, every connection waiting for data holds its next read's buffer (up to 64 KiB)
 * until data comes: an idle keep-alive connection, an upload whose body reads the overload manager
 * has paused, an upstream connection waiting for its answer. epoll allocates only once data is
 * there. With hundreds of paused uploads that was the difference in direct memory between the two
 * transports (OverloadChaosE2E peaked at 87–91 % of its cap on io_uring, about 60 % on epoll; 65–67
 * % with the ring). With the ring, a waiting connection holds nothing.
 *
 * <p>Each loop's ring starts with {@link #BATCH} buffers of {@link #SIZE} and grows by as many when
 * the kernel finds it empty, up to {@link #ENTRIES} (256 KiB to 1 MiB a loop). The ring's buffers
 * are allocated one by one, unpooled: a buffer waiting in the ring lives long, and taken from the
 * shared pool it would pin the pool's chunk, shared with short-lived buffers, so the pool could not
 * give back what a burst of uploads took (a test's dataplane kept 14 MiB of direct memory after 240
 * uploads had gone, against 4.5 MiB unpooled). For the same reason neither Netty's batch allocation
 * (one buffer sliced) nor incremental consumption is used. Off with {@code
 * -Darchway.io_uring.readRing=false} or on a kernel without buffer rings (before 5.19).
 */
final class ReadRing {

  /** The ring's group id in each loop's io_uring instance. */
  static final short GROUP = 1;

  static final short ENTRIES = 64;
  static final int BATCH = 16;
  static final int SIZE = 16 * 1024;

  /** Direct, unpooled, freed when released (no cleaner): see the class comment. */
  private static final ByteBufAllocator RING_BUFFERS =
      new UnpooledByteBufAllocator(true, false, true);

  /** Turns the ring off (true by default). */
  static final String PROPERTY = "archway.io_uring.readRing";

  /** Netty's switch for multishot receives, read once when its io_uring classes load. */
  static final String MULTISHOT = "io.netty.iouring.recvMultiShotEnabled";

  private static volatile Boolean on;

  private ReadRing() {}

  /**
   * One receive per {@code read()}, as without a ring. With a ring Netty arms a multishot receive,
   * which goes on reading whatever the handler asked: through a TLS passthrough route the client
   * lost the node's last bytes, sent just before it closed (ListenersIT, which passed with
   * multishot off). Unless the operator set Netty's switch.
   */
  static void oneReceivePerRead() {
    if (System.getProperty(MULTISHOT) == null) {
      System.setProperty(MULTISHOT, "false");
    }
  }

  /** Whether io_uring loops have the ring (asked only once io_uring is the transport). */
  static boolean on() {
    var o = on;
    if (o == null) {
      on =
          o =
              !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").strip())
                  && IoUring.isRegisterBufferRingSupported();
    }
    return o;
  }

  /** The io_uring loops' handlers, with the ring when it is on. */
  static IoHandlerFactory handlers() {
    if (!on()) {
      return IoUringIoHandler.newFactory();
    }
    var ring =
        IoUringBufferRingConfig.builder()
            .bufferGroupId(GROUP)
            .bufferRingSize(ENTRIES)
            .batchSize(BATCH)
            .allocator(new IoUringFixedBufferRingAllocator(RING_BUFFERS, false, SIZE))
            .batchAllocation(false)
            .incremental(false)
            .build();
    return IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setBufferRingConfig(ring));
  }

  /** Connections made by {@code b} read from the ring. */
  static Bootstrap apply(Bootstrap b) {
    return on() ? b.option(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, GROUP) : b;
  }

  /** Connections accepted by {@code b} read from the ring. */
  static ServerBootstrap applyToAccepted(ServerBootstrap b) {
    return on() ? b.childOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, GROUP) : b;
  }
}
