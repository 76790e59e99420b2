package io.archway.dataplane.plugin;

import java.util.concurrent.CompletionStage;

/**
 * A stream plugin compiled for one route: what connections run. Both phases run on the connection's
 * event loop and must not block.
 */
public interface StreamPluginInstance {

  /**
   * When the connection is accepted, before the upstream is connected: let it through, close it,
   * ask for more of the client's first bytes ({@link StreamSession#preread()}), or decide later.
   */
  default Preread preread(StreamSession session) {
    return Preread.CONTINUE;
  }

  /**
   * When the connection has closed (every plugin of the route, whatever its preread decided, so
   * what a preread took is always given back): counters, loggers.
   */
  default void log(StreamSession session) {}

  /** What a preread decided. */
  sealed interface Preread permits Decision, Later {
    Preread CONTINUE = Decision.CONTINUE;
    Preread CLOSE = Decision.CLOSE;
    Preread MORE = Decision.MORE;

    /** Decided when {@code stage} completes, on the connection's event loop. */
    static Preread later(CompletionStage<Preread> stage) {
      return new Later(stage);
    }
  }

  /** The decisions made at once. */
  enum Decision implements Preread {
    /** The next plugin, then the upstream. */
    CONTINUE,
    /** The connection is closed; no upstream is connected. */
    CLOSE,
    /**
     * Ask again when more bytes came from the client (a protocol's first message not whole yet);
     * the preread stops there when the client sends nothing more or sends more than the preread
     * buffer holds.
     */
    MORE
  }

  /** A decision that waits for something (a Redis counter, a delay). */
  record Later(CompletionStage<Preread> stage) implements Preread {}
}
