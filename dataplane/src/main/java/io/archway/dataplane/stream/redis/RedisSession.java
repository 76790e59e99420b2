package io.archway.dataplane.stream.redis;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.config.RedisProtocol;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.route.Variables;
import io.archway.dataplane.support.Relay;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One Redis client connection. Commands arrive decoded by {@link RespCommandDecoder} and leave as
 * the bytes the client sent, in order; replies come back in the same order and go to the client
 * unchanged, matched to their commands for the latency histogram and the loggers.
 *
 * <p>A session starts on its event loop's {@link SharedLink} to the node, when the route
 * multiplexes (the default): many clients' commands then travel on one server connection, as
 * twemproxy and Envoy do, which saves the server and the proxy a read and a write per command. The
 * first command that needs connection state of its own ({@link CommandNames#NEEDS_OWN_CONNECTION}:
 * {@code MULTI}, {@code WATCH}, blocking pops, {@code SUBSCRIBE}, {@code MONITOR}, {@code AUTH},
 * {@code SELECT}, {@code HELLO}, {@code CLIENT}, ...) waits until the replies to the commands
 * before it are in, then the session moves, for good, to a connection of its own, so transactions,
 * blocking commands, pub/sub, authentication and databases keep their meaning. Without
 * multiplexing, the session has its own connection from the start.
 *
 * <p>A shared session is admitted first ({@link RedisLinks.Node#admit}): only a client that a new
 * server connection would find authenticated shares a link; any other has a connection of its own
 * from the start, where Redis answers it exactly as it would answer the client directly ({@code
 * -NOAUTH} included). The move to a connection of its own takes a spare connection made earlier, so
 * it never waits on a connect that another client's later command could overtake. When the shared
 * link is lost, the sessions with commands in flight on it get an error per command and are closed;
 * the others carry on, on a new link.
 *
 * <p>Each client's replies waiting to be written are bounded ({@link RedisProtocol.OutputLimits}):
 * over the limit the client is disconnected, and the link is never held up for it. {@code QUIT} on
 * a shared session is answered here; commands that make Redis close the connection ({@code POST},
 * {@code Host:}) close this client only and are never forwarded; denied commands ({@code
 * deny_commands}) are forwarded as an unknown command, so Redis answers them with an error in their
 * place (and fails a transaction they are part of, as it fails one with an unknown command).
 *
 * <p>A command that a fault rule delays holds back the commands behind it on this connection only;
 * the wait is a timer on the event loop, never a sleep. After {@code SUBSCRIBE}, {@code
 * PSUBSCRIBE}, {@code SSUBSCRIBE} or {@code MONITOR} a RESP2 connection receives messages that
 * answer no command, so matching stops there: later commands are still forwarded (and delayed by
 * faults), but not timed or logged.
 */
public final class RedisSession extends ChannelInboundHandlerAdapter {

  private static final int MAX_HELD = 4096;

  /** Unanswered commands a session may have on a shared link before it stops reading its client. */
  static final int MAX_IN_FLIGHT = 1024;

  private record Pending(String name, String key, long arrived) {}

  private final CompiledStream route;
  private final RedisProtocol protocol;
  private final Channel client;
  private final StreamMetrics metrics;
  private final RedisLinks.Node node; // for a session that started shared
  private final boolean denies;
  private final InetAddress clientAddress;
  private final String clientIp;
  private String upstreamAddress;
  private SharedLink link; // while on the shared link
  private Channel upstream; // once the session has its own connection
  private final ArrayDeque<RedisCommand> held = new ArrayDeque<>();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final RespReplyScanner scanner = new RespReplyScanner();
  private ChannelHandlerContext ctx;
  private boolean delaying;
  private boolean headDelayDone;
  private boolean moving; // to a connection of its own: waiting for replies, then for the connect
  private boolean unmatched;
  private boolean closing;
  private boolean clientDone; // the client half-closed: pass it on once the held commands are out
  private boolean quitting; // QUIT on the shared link: answered once the commands before it are
  private String protocolError; // sent, and the client closed, once the commands before it are
  private long softSince; // when the client's output went over the soft limit; 0 when under
  boolean flushQueued; // for the shared link: replies written, client not yet flushed

  /** A session on its own connection {@code upstream}. */
  public RedisSession(
      CompiledStream route, Channel upstream, Channel client, StreamMetrics metrics) {
    this(route, client, metrics, null);
    own(upstream);
  }

  /** From now on the session's commands go to {@code ch}, a connection of its own. */
  private void own(Channel ch) {
    upstream = ch;
    upstreamAddress = address(ch);
    metrics.upstreamOpened(false);
    ch.closeFuture().addListener(f -> metrics.upstreamClosed(false));
  }

  /**
   * A session on the shared {@code link}, admitted as authenticated; {@code node} gives it its own
   * connection (to the same node) when a command needs one, and a new link if this one is lost.
   */
  public RedisSession(
      CompiledStream route,
      SharedLink link,
      Channel client,
      StreamMetrics metrics,
      RedisLinks.Node node) {
    this(route, client, metrics, node);
    this.link = link;
    this.upstreamAddress = link.address();
    link.attach(this);
  }

  private RedisSession(
      CompiledStream route, Channel client, StreamMetrics metrics, RedisLinks.Node node) {
    this.route = route;
    this.protocol = route.redis();
    this.client = client;
    this.metrics = metrics;
    this.node = node;
    this.denies = !protocol.denied().isEmpty();
    var remote = (InetSocketAddress) client.remoteAddress();
    this.clientAddress = remote == null ? null : remote.getAddress();
    this.clientIp = clientAddress == null ? "" : clientAddress.getHostAddress();
  }

  static String address(Channel ch) {
    var a = (InetSocketAddress) ch.remoteAddress();
    return a == null ? "" : a.getHostString() + ":" + a.getPort();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  // Client side.

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof RedisCommand cmd) || closing || quitting || protocolError != null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    held.add(cmd);
    drain();
  }

  /**
   * Forwards held commands in order, stopping at one whose fault delay has not yet passed, or at
   * one that needs a connection of its own while the session is on the shared link.
   */
  private void drain() {
    RedisCommand c;
    while (!delaying && !moving && (c = held.peek()) != null) {
      if (c.closes()) {
        closeAtOnce(c);
        return;
      }
      if (!headDelayDone) {
        long delay =
            protocol.faults().isEmpty() ? 0 : protocol.faults().delayNanos(c.name(), c::key);
        if (delay > 0) {
          delaying = true;
          ctx.executor().schedule(this::delayOver, delay, TimeUnit.NANOSECONDS);
          return;
        }
      }
      boolean denied = denies && protocol.denied().contains(c.name());
      if (upstream == null && !denied) {
        if (c.quits()) {
          // Answered here, once the replies before it are out; what follows it is dropped, as
          // Redis drops it.
          held.poll();
          c.release();
          releaseHeld();
          quitting = true;
          settle();
          return;
        }
        if (link == null || c.needsOwnConnection() || node.paused()) {
          headDelayDone = true; // its delay, if any, is served: not again once moved
          moving = true;
          if (link == null) {
            relink();
          } else {
            moveWhenAnswered();
          }
          return;
        }
      }
      headDelayDone = false;
      held.poll();
      forward(c, denied);
    }
    if (held.isEmpty() && !moving) {
      if (protocolError != null) {
        settle();
      } else if (clientDone) {
        if (upstream == null) {
          settle();
        } else if (upstream instanceof DuplexChannel d && upstream.isActive()) {
          upstream.flush();
          d.shutdownOutput();
        }
      }
    }
  }

  /**
   * Once every command sent is answered: a session waiting to move moves, and a client that quit,
   * half-closed or sent bad bytes is told what it is owed and closed.
   */
  private void settle() {
    if (closing || !(pending.isEmpty() || unmatched)) {
      return;
    }
    if (moving && link != null && held.peek() != null) {
      moveWhenAnswered();
      return;
    }
    if (!held.isEmpty() && !quitting) {
      return;
    }
    if (quitting) {
      closeAfter("+OK\r\n");
    } else if (protocolError != null) {
      closeAfter("-ERR Protocol error: " + protocolError + "\r\n");
    } else if (clientDone && upstream == null) {
      closeAfter("");
    }
  }

  private void closeAfter(String last) {
    letGo();
    var reply =
        last.isEmpty()
            ? Unpooled.EMPTY_BUFFER
            : Unpooled.copiedBuffer(last, StandardCharsets.ISO_8859_1);
    client.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
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
            + clientIp
            + " sent '"
            + c.name()
            + "' (an HTTP request sent to Redis?); connection closed");
    letGo();
    client.close();
  }

  /** Leaves the shared link for a connection of its own once the link has answered everything. */
  private void moveWhenAnswered() {
    if (!pending.isEmpty() || closing) {
      return;
    }
    moveTo(node.own(true));
  }

  /** The session's commands go to {@code connecting} from now on (and nothing is sent before). */
  private void moveTo(ChannelFuture connecting) {
    connecting.addListener(
        (ChannelFutureListener)
            f -> {
              if (closing) {
                f.channel().close();
                return;
              }
              if (!f.isSuccess()) {
                metrics.error("upstream_connect_failed");
                fail("upstream unavailable (" + f.cause().getMessage() + ")");
                return;
              }
              if (link != null) {
                link.detach(this);
                link = null;
              }
              own(f.channel());
              upstream.pipeline().addLast("replies", upstreamHandler());
              moving = false;
              drain();
              upstream.flush();
              upstream.read();
              readClientIfRoom();
            });
  }

  /**
   * The shared link was lost while this session had nothing in flight: its next command waits for a
   * new link. A new link that the server does not let run commands without {@code AUTH} means a new
   * connection would not be authenticated either, so the session takes a connection of its own
   * instead, where Redis answers it as it would answer a new client.
   */
  private void relink() {
    node.link()
        .addListener(
            f -> {
              if (closing) {
                return;
              }
              if (!f.isSuccess()) {
                metrics.error("upstream_connect_failed");
                fail("upstream unavailable (" + f.cause().getMessage() + ")");
                return;
              }
              var l = (SharedLink) f.getNow();
              if (!l.usable()) {
                moveTo(node.own(false));
                return;
              }
              link = l;
              upstreamAddress = l.address();
              l.attach(this);
              moving = false;
              drain();
              readClientIfRoom();
            });
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      clientDone = true;
      drain();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  private void delayOver() {
    delaying = false;
    if (closing) {
      return;
    }
    headDelayDone = true;
    drain();
    flushUpstream();
    readClientIfRoom();
  }

  private void forward(RedisCommand c, boolean denied) {
    if (node != null && upstream != null && c.name().equals("client")) {
      notePause(c);
    }
    var frame = denied ? deniedFrame(c) : c.frame().retain();
    if (link != null) {
      pending.add(pending(c));
      link.send(this, frame);
    } else {
      if (!unmatched) {
        pending.add(pending(c));
        unmatched = c.startsPushes();
      }
      upstream.write(frame);
    }
    c.release();
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

  /** What is kept of a command until its reply: the key only when a logger may want it. */
  private Pending pending(RedisCommand c) {
    return new Pending(c.name(), protocol.loggers().isEmpty() ? "" : c.key(), c.arrived());
  }

  private void flushUpstream() {
    if (upstream != null) {
      upstream.flush();
    }
    // a shared link flushes at the end of the event loop's turn
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flushUpstream();
    readClientIfRoom();
  }

  private void readClientIfRoom() {
    if (delaying
        || moving
        || closing
        || quitting
        || protocolError != null
        || held.size() >= MAX_HELD
        || Relay.inputShutdown(client)) {
      return;
    }
    if (upstream == null) {
      // The shared link is never paused for one client: a client that does not read its replies
      // stops being read instead.
      if (pending.size() >= MAX_IN_FLIGHT || !client.isWritable()) {
        return;
      }
      if (link != null && !link.isWritable()) {
        link.whenWritable(this);
        return;
      }
    } else if (!upstream.isWritable()) {
      return;
    }
    client.read();
  }

  /** The shared link can take writes again. */
  void resume() {
    readClientIfRoom();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (client.isWritable()) {
      softSince = 0;
      if (upstream != null && !Relay.inputShutdown(upstream)) {
        upstream.read();
      } else if (upstream == null) {
        readClientIfRoom();
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    letGo();
  }

  /** The session ends: held commands are released, and its upstream side let go. */
  private void letGo() {
    closing = true;
    releaseHeld();
    if (link != null) {
      link.detach(this);
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseHeld();
  }

  private void releaseHeld() {
    RedisCommand c;
    while ((c = held.poll()) != null) {
      c.release();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    var resp =
        cause instanceof DecoderException && cause.getCause() instanceof RespException r
            ? r
            : cause instanceof RespException r2 ? r2 : null;
    if (resp != null && !closing) {
      // As Redis does: the commands before the bad bytes are answered, then the error says what
      // was wrong, then the connection closes. The decoder has passed those commands on already.
      if (protocolError == null && !quitting) {
        metrics.error("bad_resp");
        protocolError = resp.getMessage();
        drain();
        flushUpstream();
      }
      return;
    }
    ctx.close();
  }

  /** Closes the client after one error line, and lets go of its upstream side. */
  private void fail(String message) {
    letGo();
    client
        .writeAndFlush(Unpooled.copiedBuffer("-ERR " + message + "\r\n", StandardCharsets.UTF_8))
        .addListener(ChannelFutureListener.CLOSE);
  }

  // Shared link side: called by the link, on this session's event loop.

  /** Replies from the shared link: {@code slice} holds them, of which {@code done} ended. */
  void replies(ByteBuf slice, int done) {
    if (closing) {
      slice.release();
      return;
    }
    client.write(slice, client.voidPromise());
    replied(done);
    if (overOutputLimit()) {
      return;
    }
    if (pending.isEmpty()) {
      settle();
    }
    if (pending.size() < MAX_IN_FLIGHT) {
      readClientIfRoom();
    }
  }

  /**
   * Checks the client's replies waiting to be written against the route's limits, and disconnects
   * it (logged, counted) when they are over.
   */
  private boolean overOutputLimit() {
    var out = client.unsafe().outboundBuffer();
    if (out == null) {
      return false;
    }
    long queued = out.totalPendingWriteBytes();
    var limits = protocol.output();
    if (queued <= limits.softBytes()) {
      softSince = 0;
      return false;
    }
    long now = System.nanoTime();
    if (softSince == 0) {
      softSince = now;
    }
    if (queued <= limits.hardBytes() && now - softSince < limits.softNanos()) {
      return false;
    }
    metrics.error("output_buffer_limit");
    RedisLog.warnRarely(
        "output_buffer_limit",
        "Redis route "
            + route.id()
            + ": client "
            + clientIp
            + " disconnected: "
            + queued
            + " bytes of replies waiting for it ("
            + (queued > limits.hardBytes() ? "hard" : "soft")
            + " output buffer limit)");
    letGo();
    client.close();
    return true;
  }

  void flushClient() {
    client.flush();
  }

  /**
   * The shared link closed. With commands in flight on it, each gets an error and the client is
   * closed (whether they ran is unknown); without, the session goes on, on a new link.
   */
  void linkLost(SharedLink lost) {
    if (closing || lost != link) {
      return;
    }
    link = null;
    if (pending.isEmpty()) {
      return;
    }
    letGo();
    var errors = Unpooled.buffer();
    for (int i = pending.size(); i > 0; i--) {
      errors.writeCharSequence("-ERR upstream connection lost\r\n", StandardCharsets.US_ASCII);
    }
    pending.clear();
    metrics.error("upstream_lost");
    client.writeAndFlush(errors).addListener(ChannelFutureListener.CLOSE);
  }

  // Upstream side.

  /** The handler for the upstream connection's pipeline. */
  public ChannelInboundHandlerAdapter upstreamHandler() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext uctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
          ReferenceCountUtil.release(msg);
          return;
        }
        if (!unmatched || !pending.isEmpty()) {
          try {
            scanner.feed(buf);
          } catch (RespException e) {
            // Not RESP from the server: pass it on, but stop matching replies.
            metrics.error("bad_upstream_reply");
            unmatched = true;
            pending.clear();
          }
          replied(scanner.takeReplies());
        }
        client.write(buf);
        if (!overOutputLimit() && pending.isEmpty() && (protocolError != null || moving)) {
          settle();
        }
      }

      @Override
      public void channelReadComplete(ChannelHandlerContext uctx) {
        client.flush();
        if (client.isWritable() && !Relay.inputShutdown(upstream)) {
          upstream.read();
        }
      }

      @Override
      public void channelWritabilityChanged(ChannelHandlerContext uctx) {
        if (upstream.isWritable()) {
          readClientIfRoom();
        }
      }

      @Override
      public void userEventTriggered(ChannelHandlerContext uctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
          // The server closed (Redis never half-closes): so does the client, after the replies.
          uctx.close();
          return;
        }
        uctx.fireUserEventTriggered(evt);
      }

      @Override
      public void channelInactive(ChannelHandlerContext uctx) {
        // What the server sent is flushed first: a reply to QUIT, say.
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
        uctx.close();
      }
    };
  }

  private void replied(int replies) {
    if (replies == 0) {
      return;
    }
    long now = System.nanoTime();
    for (int i = 0; i < replies; i++) {
      var p = pending.poll();
      if (p == null) {
        return;
      }
      long nanos = now - p.arrived();
      route.stats().command(p.name()).observe(nanos);
      if (!protocol.loggers().isEmpty()) {
        log(p, nanos);
      }
    }
  }

  private void log(Pending p, long nanos) {
    var vars = new CommandVars(p, nanos / 1e9);
    String line = null;
    for (var l : protocol.loggers()) {
      if (l.filter() == null || l.filter().matches(vars)) {
        if (line == null) {
          line = json(p, nanos / 1e9);
        }
        l.sink().offer(line);
      }
    }
  }

  private String json(Pending p, double seconds) {
    var enc = JsonStringEncoder.getInstance();
    return "{\"route_id\":\""
        + new String(enc.quoteAsString(route.id()))
        + "\",\"client_ip\":\""
        + clientIp
        + "\",\"upstream\":\""
        + upstreamAddress
        + "\",\"cmd\":\""
        + new String(enc.quoteAsString(p.name()))
        + "\",\"key\":\""
        + new String(enc.quoteAsString(p.key()))
        + "\",\"rpc_time\":"
        + seconds
        + "}";
  }

  /** A command's variables for logger filters. */
  private final class CommandVars implements Variables {
    private final Pending p;
    private final double seconds;

    CommandVars(Pending p, double seconds) {
      this.p = p;
      this.seconds = seconds;
    }

    @Override
    public String get(String name) {
      return switch (name) {
        case "rpc_time" -> Double.toString(seconds);
        case "cmd", "redis_cmd" -> p.name();
        case "key", "redis_key" -> p.key();
        case "client_ip", "remote_addr" -> clientIp;
        case "route_id" -> route.id();
        default -> null;
      };
    }

    @Override
    public InetAddress remoteAddress() {
      return clientAddress;
    }
  }
}
