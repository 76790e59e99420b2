package io.archway.dataplane.stream;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.plugin.StreamPluginInstance;
import io.archway.dataplane.plugin.StreamPluginInstance.Preread;
import io.netty.channel.ChannelHandlerContext;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The preread step of a stream route with plugins, for one client connection, before any upstream
 * is picked: the plugins' preread in priority order, then their log phase once the connection
 * closed. A plugin may close the connection (ip-restriction, limit-conn), wait (limit-conn's delay,
 * a Redis count), or ask for the client's first bytes (mqtt-proxy's CONNECT), which {@link
 * StreamHandler} reads and keeps to send upstream unchanged, and hands here to be copied for the
 * plugins ({@link StreamConnection}). The log phase waits for any decision still pending.
 *
 * <p>Runs on the connection's event loop only; {@link StreamHandler} owns the channel and is told,
 * through {@code passed}, when every plugin let the connection by.
 */
final class StreamPreread {

  private static final Logger log = LoggerFactory.getLogger(StreamPreread.class);

  private final StreamGateway gateway;
  private final ChannelHandlerContext ctx;
  private final CompiledStream route;
  private final StreamConnection session;
  private final BooleanSupplier closed;
  private final Runnable passed;
  // The next plugin to preread, and whether it waits for bytes or for a plugin's later decision
  // (log runs only after that).
  private int next;
  private boolean waitingForBytes;
  private boolean inputShutdown;
  private boolean pending;
  private boolean logged;

  /**
   * @param closed whether the handler saw the connection close
   * @param passed what the handler does once every plugin let the connection by
   */
  StreamPreread(
      StreamGateway gateway,
      ChannelHandlerContext ctx,
      CompiledStream route,
      StreamConnection session,
      BooleanSupplier closed,
      Runnable passed) {
    this.gateway = gateway;
    this.ctx = ctx;
    this.route = route;
    this.session = session;
    this.closed = closed;
    this.passed = passed;
  }

  /** The route's plugins' preread, from the next one to run, until one stops or all let it by. */
  void run() {
    var chain = route.plugins().instances();
    while (next < chain.size()) {
      if (closed.getAsBoolean()) {
        return;
      }
      Preread d;
      try {
        d = chain.get(next).preread(session);
      } catch (RuntimeException e) {
        log.warn(
            "stream route {}: plugin {}: preread failed",
            route.id(),
            route.plugins().names().get(next),
            e);
        gateway.metrics().error("plugin_failed");
        ctx.close();
        return;
      }
      if (!decide(d)) {
        return;
      }
    }
    session.prereadDone();
    passed.run();
  }

  /** Acts on a preread decision; true when the next plugin runs now. */
  private boolean decide(Preread d) {
    switch (d) {
      case StreamPluginInstance.Decision.CONTINUE -> {
        next++;
        return true;
      }
      case StreamPluginInstance.Decision.CLOSE -> {
        gateway.metrics().error("plugin_closed");
        ctx.close();
        return false;
      }
      case StreamPluginInstance.Decision.MORE -> {
        if (inputShutdown || session.prereadBytes() >= StreamConnection.MAX_PREREAD) {
          gateway.metrics().error(inputShutdown ? "preread_incomplete" : "preread_too_large");
          ctx.close();
          return false;
        }
        waitingForBytes = true;
        ctx.channel().read();
        return false;
      }
      case StreamPluginInstance.Later later -> {
        pending = true;
        later
            .stage()
            .whenComplete(
                (decided, err) ->
                    ctx.executor()
                        .execute(
                            () -> {
                              pending = false;
                              if (closed.getAsBoolean()) {
                                logPhase(); // deferred until the plugin's decision was in
                              } else if (err != null || decided == null) {
                                gateway.metrics().error("plugin_failed");
                                ctx.close();
                              } else if (decide(decided)) {
                                run();
                              }
                            }));
        return false;
      }
    }
  }

  /** Bytes read from the client: copied for the plugins, and the preread goes on if it waited. */
  void read(Object msg) {
    if (!session.append(msg)) {
      gateway.metrics().error("preread_too_large");
      ctx.close();
      return;
    }
    if (waitingForBytes) {
      waitingForBytes = false;
      run();
    }
  }

  /** The client said all it will: a plugin still waiting for bytes will not have enough. */
  void inputShutdown() {
    inputShutdown = true;
    if (waitingForBytes) {
      waitingForBytes = false;
      gateway.metrics().error("preread_incomplete");
      ctx.close();
    }
  }

  /** The connection closed: the log phase runs now, or once a pending decision is in. */
  void closed() {
    session.ended();
    session.prereadDone();
    if (!pending) {
      logPhase();
    }
  }

  /** Every plugin's log phase, once, after the connection closed. */
  private void logPhase() {
    if (logged) {
      return;
    }
    logged = true;
    var chain = route.plugins().instances();
    for (int i = 0; i < chain.size(); i++) {
      try {
        chain.get(i).log(session);
      } catch (RuntimeException e) {
        log.warn(
            "stream route {}: plugin {}: log failed",
            route.id(),
            route.plugins().names().get(i),
            e);
      }
    }
  }
}
