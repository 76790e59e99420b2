package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import org.junit.jupiter.api.Test;

/** What a loop survives: a failed completion and direct memory at its cap, not a full heap. */
class GuardedIoHandlerTest {

  @Test
  void aRuntimeFailureIsLoggedAndTheLoopGoesOn() {
    long before = GuardedIoHandler.failures();
    assertThat(guarded(new IllegalStateException("completion for a closed channel")).run(null))
        .isZero();
    assertThat(GuardedIoHandler.failures()).isEqualTo(before + 1);
  }

  @Test
  void directMemoryAtItsCapIsSurvived() {
    long before = GuardedIoHandler.failures();
    var jdk =
        new OutOfMemoryError(
            "Cannot reserve 65536 bytes of direct buffer memory (allocated: 33554432, limit:"
                + " 33554432)");
    assertThat(guarded(jdk).run(null)).isZero();
    assertThat(GuardedIoHandler.failures()).isEqualTo(before + 1);
  }

  @Test
  void aFullHeapIsNotSwallowed() {
    long before = GuardedIoHandler.failures();
    var heap = new OutOfMemoryError("Java heap space");
    assertThatThrownBy(() -> guarded(heap).run(null)).isSameAs(heap);
    assertThat(GuardedIoHandler.failures()).isEqualTo(before);
  }

  private static IoHandler guarded(Throwable failure) {
    IoHandlerFactory failing = executor -> new Failing(failure);
    return GuardedIoHandler.factory(failing).newHandler((ThreadAwareExecutor) null);
  }

  /** A loop's I/O step that fails each time it runs. */
  private record Failing(Throwable failure) implements IoHandler {
    @Override
    public int run(IoHandlerContext context) {
      if (failure instanceof RuntimeException r) {
        throw r;
      }
      throw (Error) failure;
    }

    @Override
    public void prepareToDestroy() {}

    @Override
    public void destroy() {}

    @Override
    public IoRegistration register(IoHandle handle) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void wakeup() {}

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
      return false;
    }
  }
}
