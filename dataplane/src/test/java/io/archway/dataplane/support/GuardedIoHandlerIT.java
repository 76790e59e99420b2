package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An io_uring event loop whose read buffer cannot be allocated (direct memory at its cap) keeps
 * serving its other connections: Netty allocates that buffer while it handles a completion, outside
 * any pipeline, and without {@link GuardedIoHandler} the error ends the loop's thread.
 */
class GuardedIoHandlerIT {

  private OneLoopServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aReadBufferThatCannotBeAllocatedDoesNotEndTheLoop() throws Exception {
    assumeThat(Transport.IO_URING.unavailabilityCause()).as("io_uring runs here").isNull();
    var allocator = new Exhaustible();
    server =
        OneLoopServer.start(
            Transport.IO_URING,
            "guarded-it",
            b -> b.childOption(ChannelOption.ALLOCATOR, allocator),
            Echo::new);
    int port = server.port();
    long before = GuardedIoHandler.failures();

    try (var first = connect(port)) {
      assertThat(echo(first, "one")).isEqualTo("one");
      allocator.exhausted = true;
      first.getOutputStream().write("two".getBytes(StandardCharsets.US_ASCII));
      await().atMost(Duration.ofSeconds(30)).until(() -> GuardedIoHandler.failures() > before);
      allocator.exhausted = false;

      // Memory is back: the same loop accepts and serves a new connection.
      try (var second = connect(port)) {
        assertThat(echo(second, "three")).isEqualTo("three");
      }
    }
    assertThat(GuardedIoHandler.failures()).isGreaterThan(before);
  }

  private static Socket connect(int port) throws Exception {
    var s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    s.setSoTimeout(20_000);
    return s;
  }

  private static String echo(Socket s, String text) throws Exception {
    var bytes = text.getBytes(StandardCharsets.US_ASCII);
    s.getOutputStream().write(bytes);
    InputStream in = s.getInputStream();
    return new String(in.readNBytes(bytes.length), StandardCharsets.US_ASCII);
  }

  /** Writes back what it reads. */
  private static final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.writeAndFlush(msg);
    }
  }

  /** Unpooled direct buffers, until it is told that direct memory is at its cap. */
  private static final class Exhaustible extends AbstractByteBufAllocator {
    volatile boolean exhausted;
    final AtomicInteger refused = new AtomicInteger();

    Exhaustible() {
      super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      if (exhausted) {
        refused.incrementAndGet();
        // The JDK's words when direct memory is at -XX:MaxDirectMemorySize.
        throw new OutOfMemoryError(
            "Cannot reserve " + initialCapacity + " bytes of direct buffer memory (allocated: 0)");
      }
      return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
