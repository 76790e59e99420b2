package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.config.RedisProtocol;
import io.archway.dataplane.config.StreamMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The command path of one {@link RedisSession}: commands read from the client wait here, in order,
 * and leave as the bytes the client sent. A command that a fault rule delays holds back the
 * commands behind it on this connection only (the wait is a timer on the event loop, never a
 * sleep); one that needs a connection of its own holds them back while the session moves ({@link
 * SessionUpstream}). On the way out: {@code QUIT} on a shared session is answered by the session,
 * {@code POST} and {@code Host:} close the client and go nowhere, denied commands go as an unknown
 * command, and {@code CLIENT PAUSE} is noted for the node.
 */
final class SessionCommands {

  /** Commands read ahead of the ones sent, before the session stops reading its client. */
  static final int MAX_HELD = 4096;

  private final RedisSession session;
  private final CompiledStream route;
  private final RedisProtocol protocol;
  private final StreamMetrics metrics;
  private final boolean denies;
  private final boolean faults;
  private final ArrayDeque<RedisCommand> held = new ArrayDeque<>();
  private boolean delaying;
  private boolean headDelayDone;
  // Commands for the shared link that lie side by side in one client read, not yet written: they go
  // as one slice of that read (one write on the link instead of one per command), which holds the
  // run's one reference to the read.
  private ByteBuf runSource;
  private int runFrom;
  private int runTo;
  private int runCommands;
  // A run left open by a client read is sent when the read is over (endRun, from the session's
  // channelReadComplete); this task is the backstop for a read that ends any other way.
  private boolean endRunScheduled;
  private final Runnable endRunLater =
      () -> {
        endRunScheduled = false;
        sendRun();
      };

  SessionCommands(RedisSession session, CompiledStream route, StreamMetrics metrics) {
    this.session = session;
    this.route = route;
    this.protocol = route.redis();
    this.metrics = metrics;
    this.denies = !protocol.denied().isEmpty();
    this.faults = !protocol.faults().isEmpty();
  }

  /** Whether the session may read more of its client: no delay running, and room to hold. */
  boolean room() {
    return !delaying && held.size() < MAX_HELD;
  }

  boolean isEmpty() {
    return held.isEmpty();
  }

  /**
   * A command from the client's read: forwarded at once if it can be, and left in the open run for
   * the link, which the next commands of the same read join (Netty's decoder hands commands on one
   * at a time); {@link #endRun} sends it when the read is over.
   */
  void add(RedisCommand c) {
    held.add(c);
    drain(false);
  }

  /** Sends the run the client's read left open: one write on the link for its commands. */
  void endRun() {
    sendRun();
  }

  /**
   * Forwards held commands in order, stopping at one whose fault delay has not yet passed, or at
   * one that needs a connection of its own while the session is on the shared link.
   */
  void drain() {
    drain(true);
  }

  private void drain(boolean endRun) {
    var up = session.upstream;
    RedisCommand c;
    while (!delaying && !up.moving() && (c = held.peek()) != null) {
      if (c.closes()) {
        sendRun();
        closeAtOnce(c);
        return;
      }
      if (!headDelayDone && faults) {
        long delay = protocol.faults().delayNanos(c.name(), c::key);
        if (delay > 0) {
          sendRun();
          delaying = true;
          session.ctx().executor().schedule(this::delayOver, delay, TimeUnit.NANOSECONDS);
          return;
        }
      }
      boolean denied = denies && protocol.denied().contains(c.name());
      if (up.own() == null && up.link() == null && denied) {
        // The shared link went while the session was idle: a denied command needs a connection
        // too (its refusal comes from the server), as any other does.
        headDelayDone = true;
        sendRun();
        up.move();
        return;
      }
      if (up.own() == null && !denied) {
        if (c.quits()) {
          // Answered here, once the replies before it are out; what follows it is dropped, as
          // Redis drops it.
          sendRun();
          held.poll();
          c.release();
          releaseHeld();
          session.quit();
          return;
        }
        if (up.link() == null || c.needsOwnConnection() || up.node().paused()) {
          headDelayDone = true; // its delay, if any, is served: not again once moved
          sendRun();
          up.move();
          return;
        }
      }
      headDelayDone = false;
      held.poll();
      forward(c, denied);
    }
    if (endRun) {
      sendRun();
    } else if (runCommands > 0 && !endRunScheduled) {
      endRunScheduled = true;
      session.ctx().executor().execute(endRunLater);
    }
    if (held.isEmpty() && !up.moving()) {
      session.drained();
    }
  }

  /** The head command's delay has passed. */
  private void delayOver() {
    delaying = false;
    if (session.closing()) {
      return;
    }
    headDelayDone = true;
    drain();
    session.upstream.flush();
    session.readClientIfRoom();
  }

  private void forward(RedisCommand c, boolean denied) {
    var up = session.upstream;
    if (up.shared() && up.own() != null && c.name().equals("client")) {
      notePause(c);
    }
    var link = up.link();
    if (link != null && !denied) {
      session.awaited.sentOnLink(c);
      toRun(c);
      return;
    }
    var frame = denied ? deniedFrame(c) : c.retainedFrame();
    if (link != null) {
      sendRun();
      session.awaited.sentOnLink(c);
      link.send(session, frame, 1);
    } else {
      session.awaited.sentOnOwn(c);
      up.own().write(frame);
    }
    c.release();
  }

  /** {@code c} (passing on its reference) joins the run for the link, or begins a new one. */
  private void toRun(RedisCommand c) {
    var source = c.source();
    if (runCommands > 0 && source == runSource && c.sourceIndex() == runTo) {
      runTo += c.length();
      runCommands++;
      c.release();
      return;
    }
    sendRun();
    runSource = source.retain();
    runFrom = c.sourceIndex();
    runTo = runFrom + c.length();
    runCommands = 1;
    c.release();
  }

  /** Writes the run for the link, if any: one slice of the read its commands came in. */
  private void sendRun() {
    if (runCommands == 0) {
      return;
    }
    var frames = runSource.slice(runFrom, runTo - runFrom); // takes the run's reference
    int n = runCommands;
    runSource = null;
    runCommands = 0;
    var link = session.upstream.link();
    if (link == null) {
      // The link went between the read and its end: its failure answers what it was owed.
      frames.release();
      return;
    }
    link.send(session, frames, n);
  }

  /**
   * What goes to the server in place of a denied command: a command that does not exist, named so
   * that Redis's error says why ({@code -ERR unknown command 'flushall (denied by the proxy)',
   * ...}). Redis refuses it when it is read, so inside {@code MULTI} the transaction fails, as it
   * would for any command refused there.
   */
  private ByteBuf deniedFrame(RedisCommand c) {
    metrics.error("denied_command");
    var name = c.name() + " (denied by the proxy)";
    var bytes = name.getBytes(StandardCharsets.UTF_8);
    var frame = Unpooled.buffer(bytes.length + 16);
    frame.writeCharSequence("*1\r\n$" + bytes.length + "\r\n", StandardCharsets.US_ASCII);
    frame.writeBytes(bytes).writeByte('\r').writeByte('\n');
    return frame;
  }

  /** {@code CLIENT PAUSE ms} and {@code CLIENT UNPAUSE} are noted for the node (see paused()). */
  private void notePause(RedisCommand c) {
    var node = session.upstream.node();
    var sub = c.key();
    if (sub.equalsIgnoreCase("pause")) {
      try {
        node.pause(Long.parseLong(c.arg(2)));
      } catch (RuntimeException e) {
        // not a valid pause: Redis refuses it
      }
    } else if (sub.equalsIgnoreCase("unpause")) {
      node.pause(0);
    }
  }

  /**
   * {@code POST} or {@code Host:}: an HTTP request sent to Redis. Redis closes the connection at
   * once without a reply; so does the proxy, for this client only, and the command goes nowhere.
   */
  private void closeAtOnce(RedisCommand c) {
    metrics.error("closing_command");
    RedisLog.warnRarely(
        "closing_command",
        "Redis route "
            + route.id()
            + ": client "
            + session.clientIp()
            + " sent '"
            + c.name()
            + "' (an HTTP request sent to Redis?); connection closed");
    session.letGo();
    session.client().close();
  }

  void releaseHeld() {
    RedisCommand c;
    while ((c = held.poll()) != null) {
      c.release();
    }
    if (runCommands > 0) {
      runSource.release();
      runSource = null;
      runCommands = 0;
    }
  }
}
