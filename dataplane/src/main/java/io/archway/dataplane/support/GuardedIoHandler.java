package io.archway.dataplane.support;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.internal.OutOfDirectMemoryError;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An io_uring loop's I/O handler that survives a failure inside Netty's completion handling, as
 * Netty's epoll and NIO loops do (they catch what their I/O step throws, log it and go on).
 *
 * <p>io_uring submits each read with its buffer allocated beforehand, and Netty allocates it while
 * it handles a completion (a POLLIN, the read before), outside any channel's pipeline. When direct
 * memory is at its cap there, the {@code OutOfDirectMemoryError} leaves {@code
 * IoUringIoHandler.run} and ends the event loop's thread: every connection on that loop, the status
 * port's too, is never served again. Here the loop goes on: the completion that failed is dropped
 * (Netty has taken it off the ring before handling it), its one connection gets no more reads and
 * is closed by its timeouts, and every other connection on the loop is served. Only direct memory
 * is survived this way (it comes back as buffers are released); a full heap, or any other {@code
 * Error}, still ends the loop, as it would on epoll.
 */
final class GuardedIoHandler implements IoHandler {

  private static final Logger log = LoggerFactory.getLogger(GuardedIoHandler.class);

  private static final WarnEvery warn = new WarnEvery(log, 10, TimeUnit.SECONDS);
  private static final AtomicLong failures = new AtomicLong();

  private final IoHandler delegate;

  private GuardedIoHandler(IoHandler delegate) {
    this.delegate = delegate;
  }

  /** {@code factory}'s handlers, guarded. */
  static IoHandlerFactory factory(IoHandlerFactory factory) {
    return new IoHandlerFactory() {
      @Override
      public IoHandler newHandler(io.netty.util.concurrent.ThreadAwareExecutor executor) {
        return new GuardedIoHandler(factory.newHandler(executor));
      }

      @Override
      public boolean isChangingThreadSupported() {
        return factory.isChangingThreadSupported();
      }
    };
  }

  /** I/O steps that failed and were survived, since the process started. */
  static long failures() {
    return failures.get();
  }

  @Override
  public int run(IoHandlerContext context) {
    try {
      return delegate.run(context);
    } catch (RuntimeException e) {
      failed(e);
      return 0;
    } catch (OutOfMemoryError e) {
      if (!direct(e)) {
        throw e; // the heap is full: nothing here makes that better, and the process should know
      }
      failed(e);
      return 0;
    }
  }

  /**
   * Direct memory at its cap: Netty's own limit ({@link OutOfDirectMemoryError}) or the JDK's
   * ({@code Cannot reserve N bytes of direct buffer memory}), which the next read may well find
   * freed again.
   */
  static boolean direct(OutOfMemoryError e) {
    return e instanceof OutOfDirectMemoryError
        || (e.getMessage() != null && e.getMessage().contains("direct buffer memory"));
  }

  private static void failed(Throwable e) {
    failures.incrementAndGet();
    warn.warn(
        "io_uring: handling an I/O completion failed ({}); the event loop goes on, the one"
            + " connection it was for is closed by its timeouts",
        e.toString());
  }

  @Override
  public void initialize() {
    delegate.initialize();
  }

  @Override
  public void prepareToDestroy() {
    delegate.prepareToDestroy();
  }

  @Override
  public void destroy() {
    delegate.destroy();
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    return delegate.register(handle);
  }

  @Override
  public void wakeup() {
    delegate.wakeup();
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return delegate.isCompatible(handleType);
  }
}
