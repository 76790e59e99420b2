package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * io_uring connections waiting for data hold no read buffer, and what a burst of reads took goes
 * back once it is released (see {@link ReadRing}). Without the ring each of these idle connections
 * holds its next read's buffer (4.4 MiB for the 400 here, measured), and the pool keeps what they
 * held once they are gone; with it, 0 bytes (the loop's ring is allocated before the test starts,
 * and may grow by at most 768 KiB).
 */
class ReadRingIT {

  static final int CLIENTS = 400;
  static final int UPLOAD = 60_000;
  static final long MIB = 1 << 20;

  private OneLoopServer server;
  private final AtomicLong received = new AtomicLong();

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void idleConnectionsHoldNoReadBufferAndABurstIsGivenBack() throws Exception {
    assumeThat(Transport.IO_URING.unavailabilityCause()).as("io_uring runs here").isNull();
    assumeThat(ReadRing.on()).as("the kernel has buffer rings").isTrue();
    assumeThat(PlatformDependent.usedDirectMemory())
        .as("Netty counts direct memory")
        .isNotNegative();
    server =
        OneLoopServer.start(
            Transport.IO_URING, "read-ring-it", Transport.IO_URING::accepting, Swallow::new);
    int port = server.port();
    long before = PlatformDependent.usedDirectMemory();

    var clients = new ArrayList<Socket>();
    try {
      for (int i = 0; i < CLIENTS; i++) {
        var s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.getOutputStream().write(new byte[UPLOAD]);
        clients.add(s);
      }
      await().until(() -> received.get() == (long) CLIENTS * UPLOAD);
      // Every connection has read all it was sent and waits for more.
      long idle = PlatformDependent.usedDirectMemory() - before;
      assertThat(idle)
          .as("direct memory held by %d idle connections (bytes)", CLIENTS)
          .isLessThan(MIB);
    } finally {
      for (var s : clients) {
        s.close();
      }
    }
    await()
        .untilAsserted(
            () ->
                assertThat(PlatformDependent.usedDirectMemory() - before)
                    .as("direct memory kept once the connections are gone (bytes)")
                    .isLessThan(MIB));
  }

  /** Counts and drops what it reads, and asks for more. */
  private final class Swallow extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      received.addAndGet(((io.netty.buffer.ByteBuf) msg).readableBytes());
      ReferenceCountUtil.release(msg);
    }
  }
}
