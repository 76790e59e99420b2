package io.archway.dataplane.stream.redis;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.archway.dataplane.route.Variables;
import io.archway.dataplane.server.Relay;
import io.archway.dataplane.stream.CompiledStream;
import io.archway.dataplane.stream.StreamMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One Redis client connection proxied to one upstream connection (so {@code MULTI}/{@code EXEC},
 * blocking commands, {@code SUBSCRIBE} and {@code MONITOR} keep their meaning). Commands arrive
 * decoded by {@link RespCommandDecoder} and leave as the bytes the client sent, in order. A command
 * that a fault rule delays holds back the commands behind it on this connection only; the wait is a
 * timer on the event loop, never a sleep. Replies stream back unchanged while a {@link
 * RespReplyScanner} matches them to commands, for the latency histogram and the loggers.
 *
 * <p>After {@code SUBSCRIBE}, {@code PSUBSCRIBE}, {@code SSUBSCRIBE} or {@code MONITOR} a RESP2
 * connection receives messages that answer no command, so matching stops there: later commands are
 * still forwarded (and delayed by faults), but not timed or logged.
 */
public final class RedisSession extends ChannelInboundHandlerAdapter {

  private static final Set<String> UNMATCHED_AFTER =
      Set.of("subscribe", "psubscribe", "ssubscribe", "monitor");
  private static final int MAX_HELD = 4096;

  private record Pending(String name, String key, long arrived) {}

  private final CompiledStream route;
  private final RedisProtocol protocol;
  private final Channel upstream;
  private final Channel client;
  private final StreamMetrics metrics;
  private final InetAddress clientAddress;
  private final String clientIp;
  private final String upstreamAddress;
  private final ArrayDeque<RedisCommand> held = new ArrayDeque<>();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final RespReplyScanner scanner = new RespReplyScanner();
  private ChannelHandlerContext ctx;
  private boolean delaying;
  private boolean headDelayDone;
  private boolean unmatched;
  private boolean closing;
  private boolean clientDone; // the client half-closed: pass it on once the held commands are out

  public RedisSession(
      CompiledStream route, Channel upstream, Channel client, StreamMetrics metrics) {
    this.route = route;
    this.protocol = route.redis();
    this.upstream = upstream;
    this.client = client;
    this.metrics = metrics;
    var remote = (InetSocketAddress) client.remoteAddress();
    this.clientAddress = remote == null ? null : remote.getAddress();
    this.clientIp = clientAddress == null ? "" : clientAddress.getHostAddress();
    var up = (InetSocketAddress) upstream.remoteAddress();
    this.upstreamAddress = up == null ? "" : up.getHostString() + ":" + up.getPort();
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

  /** Forwards held commands in order, stopping at one whose fault delay has not yet passed. */
  private void drain() {
    RedisCommand c;
    while (!delaying && (c = held.peek()) != null) {
      if (!headDelayDone) {
        long delay = protocol.faults().delayNanos(c.name(), c.key());
        if (delay > 0) {
          delaying = true;
          ctx.executor().schedule(this::delayOver, delay, TimeUnit.NANOSECONDS);
          return;
        }
      }
      headDelayDone = false;
      held.poll();
      forward(c);
    }
    if (clientDone
        && held.isEmpty()
        && upstream instanceof DuplexChannel d
        && upstream.isActive()) {
      upstream.flush();
      d.shutdownOutput();
    }
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
    upstream.flush();
    readClientIfRoom();
  }

  private void forward(RedisCommand c) {
    if (!unmatched) {
      pending.add(new Pending(c.name(), c.key(), c.arrived()));
      if (UNMATCHED_AFTER.contains(c.name())) {
        unmatched = true;
      }
    }
    upstream.write(c.frame().retain());
    c.release();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    upstream.flush();
    readClientIfRoom();
  }

  private void readClientIfRoom() {
    if (!delaying
        && held.size() < MAX_HELD
        && upstream.isWritable()
        && !closing
        && !Relay.inputShutdown(client)) {
      client.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (client.isWritable() && !Relay.inputShutdown(upstream)) {
      upstream.read();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    releaseHeld();
    upstream.close();
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
      // As Redis does: say what was wrong, then close. Commands already forwarded keep their
      // replies, which go out first.
      metrics.error("bad_resp");
      closing = true;
      releaseHeld();
      upstream.close();
      var reply = "-ERR Protocol error: " + resp.getMessage() + "\r\n";
      client
          .writeAndFlush(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    ctx.close();
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
