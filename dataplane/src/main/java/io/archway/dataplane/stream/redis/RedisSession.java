package io.archway.dataplane.stream.redis;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.archway.dataplane.route.Variables;
import io.archway.dataplane.server.Relay;
import io.archway.dataplane.stream.CompiledStream;
import io.archway.dataplane.stream.StreamMetrics;
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
import java.util.function.Supplier;

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
  private final Supplier<ChannelFuture> connector;
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
   * A session on the shared {@code link}; {@code connector} makes its own connection (to the same
   * node) when a command needs one.
   */
  public RedisSession(
      CompiledStream route,
      SharedLink link,
      Channel client,
      StreamMetrics metrics,
      Supplier<ChannelFuture> connector) {
    this(route, client, metrics, connector);
    this.link = link;
    this.upstreamAddress = link.address();
    link.attach(this);
  }

  private RedisSession(
      CompiledStream route,
      Channel client,
      StreamMetrics metrics,
      Supplier<ChannelFuture> connector) {
    this.route = route;
    this.protocol = route.redis();
    this.client = client;
    this.metrics = metrics;
    this.connector = connector;
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
    if (!(msg instanceof RedisCommand cmd) || closing) {
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
      if (!headDelayDone) {
        long delay = protocol.faults().delayNanos(c);
        if (delay > 0) {
          delaying = true;
          ctx.executor().schedule(this::delayOver, delay, TimeUnit.NANOSECONDS);
          return;
        }
      }
      if (link != null && c.needsOwnConnection()) {
        headDelayDone = true; // its delay, if any, is served: not again once moved
        moving = true;
        moveWhenAnswered();
        return;
      }
      headDelayDone = false;
      held.poll();
      forward(c);
    }
    if (clientDone && held.isEmpty() && !moving) {
      if (link != null) {
        closeWhenAnswered();
      } else if (upstream instanceof DuplexChannel d && upstream.isActive()) {
        upstream.flush();
        d.shutdownOutput();
      }
    }
  }

  /** On the shared link, a half-closed client is closed once every command is answered. */
  private void closeWhenAnswered() {
    if (pending.isEmpty() && !closing) {
      closing = true;
      client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Leaves the shared link for a connection of its own once the link has answered everything. */
  private void moveWhenAnswered() {
    if (!pending.isEmpty() || closing) {
      return;
    }
    connector
        .get()
        .addListener(
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
                  link.detach(this);
                  link = null;
                  own(f.channel());
                  upstream.pipeline().addLast("replies", upstreamHandler());
                  moving = false;
                  drain();
                  upstream.flush();
                  upstream.read();
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

  private void forward(RedisCommand c) {
    var frame = c.frame().retain();
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
    if (delaying || moving || closing || held.size() >= MAX_HELD || Relay.inputShutdown(client)) {
      return;
    }
    if (link != null) {
      // The shared link is never paused for one client: a client that does not read its replies
      // stops being read instead.
      if (pending.size() >= MAX_IN_FLIGHT || !client.isWritable()) {
        return;
      }
      if (!link.isWritable()) {
        link.whenWritable(this);
        return;
      }
    } else if (upstream == null || !upstream.isWritable()) {
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
      if (upstream != null && !Relay.inputShutdown(upstream)) {
        upstream.read();
      } else if (link != null) {
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
      // As Redis does: say what was wrong, then close. Replies still due to earlier commands are
      // dropped.
      metrics.error("bad_resp");
      fail("Protocol error: " + resp.getMessage());
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
    if (pending.isEmpty()) {
      if (moving) {
        moveWhenAnswered();
      } else if (clientDone && held.isEmpty()) {
        closeWhenAnswered();
      }
    }
    if (pending.size() < MAX_IN_FLIGHT) {
      readClientIfRoom();
    }
  }

  void flushClient() {
    client.flush();
  }

  /** The shared link closed: each unanswered command gets an error, then the client is closed. */
  void linkLost() {
    if (closing) {
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
