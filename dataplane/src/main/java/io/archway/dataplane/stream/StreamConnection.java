package io.archway.dataplane.stream;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.plugin.StreamSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A client connection on a stream route with plugins, as its plugins see it ({@link
 * StreamSession}): the addresses, the variables plugins set, the bytes each way (counted by {@link
 * #counter()}, the first handler of the client's pipeline), and, during preread, a copy of what the
 * client sent so far (at most {@link #MAX_PREREAD} bytes, nginx's {@code preread_buffer_size}; the
 * bytes themselves go upstream unchanged from the handler's queue).
 */
final class StreamConnection implements StreamSession {

  static final int MAX_PREREAD = 16 * 1024;

  private final CompiledStream route;
  private final Channel channel;
  private final InetSocketAddress remote;
  private final InetSocketAddress local;
  private final long startNanos = System.nanoTime();
  private final long startMillis = System.currentTimeMillis();
  private final Map<String, String> vars = new HashMap<>();
  private final Map<Object, Object> state = new IdentityHashMap<>();
  private long received;
  private long sent;
  private long endNanos;
  private ByteBuf preread = Unpooled.EMPTY_BUFFER;
  private boolean prereadOver;

  StreamConnection(
      CompiledStream route, Channel channel, InetSocketAddress remote, InetSocketAddress local) {
    this.route = route;
    this.channel = channel;
    this.remote = remote;
    this.local = local;
  }

  /** The variables plugins set, for the balancer. */
  Map<String, String> vars() {
    return vars;
  }

  /** Keeps a copy of bytes the client sent while preread runs; false past the limit. */
  boolean append(Object msg) {
    var buf = msg instanceof ByteBuf b ? b : msg instanceof ByteBufHolder h ? h.content() : null;
    if (buf == null || prereadOver) {
      return true;
    }
    if (preread.readableBytes() + buf.readableBytes() > MAX_PREREAD) {
      return false;
    }
    if (preread == Unpooled.EMPTY_BUFFER) {
      preread = Unpooled.buffer(Math.min(MAX_PREREAD, Math.max(256, buf.readableBytes())));
    }
    preread.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
    return true;
  }

  int prereadBytes() {
    return preread.readableBytes();
  }

  /** Preread is over (the upstream is next, or the connection closed): the copy goes. */
  void prereadDone() {
    prereadOver = true;
    if (preread != Unpooled.EMPTY_BUFFER) {
      preread.release();
      preread = Unpooled.EMPTY_BUFFER;
    }
  }

  void ended() {
    if (endNanos == 0) {
      endNanos = System.nanoTime();
    }
  }

  /** Counts a datagram's bytes (UDP sessions, which have no pipeline of their own). */
  void countReceived(int n) {
    received += n;
  }

  void countSent(int n) {
    sent += n;
  }

  /** Counts the client's bytes each way. */
  ChannelDuplexHandler counter() {
    return new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
          received += b.readableBytes();
        }
        ctx.fireChannelRead(msg);
      }

      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf b) {
          sent += b.readableBytes();
        }
        ctx.write(msg, promise);
      }
    };
  }

  @Override
  public String routeId() {
    return route.id();
  }

  @Override
  public String remoteAddr() {
    return remote.getAddress().getHostAddress();
  }

  @Override
  public InetAddress remoteAddress() {
    return remote.getAddress();
  }

  @Override
  public int remotePort() {
    return remote.getPort();
  }

  @Override
  public String serverAddr() {
    return local.getAddress().getHostAddress();
  }

  @Override
  public int serverPort() {
    return local.getPort();
  }

  @Override
  public long bytesReceived() {
    return received;
  }

  @Override
  public long bytesSent() {
    return sent;
  }

  @Override
  public long sessionNanos() {
    return (endNanos == 0 ? System.nanoTime() : endNanos) - startNanos;
  }

  @Override
  public long startMillis() {
    return startMillis;
  }

  @Override
  public ByteBuf preread() {
    return preread;
  }

  @Override
  public void set(String name, String value) {
    vars.put(name, value);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T state(Object owner) {
    return (T) state.get(owner);
  }

  @Override
  public void state(Object owner, Object value) {
    if (value == null) {
      state.remove(owner);
    } else {
      state.put(owner, value);
    }
  }

  @Override
  public ScheduledExecutorService executor() {
    return channel.eventLoop();
  }

  @Override
  public String get(String name) {
    var v = vars.get(name);
    if (v != null) {
      return v;
    }
    return switch (name) {
      case "remote_addr" -> remoteAddr();
      case "remote_port" -> Integer.toString(remotePort());
      case "server_addr" -> serverAddr();
      case "server_port" -> Integer.toString(serverPort());
      case "route_id" -> route.id();
      case "route_name" -> route.route().name();
      case "bytes_sent" -> Long.toString(sent);
      case "bytes_received" -> Long.toString(received);
      case "session_time" -> String.format(java.util.Locale.ROOT, "%.3f", sessionNanos() / 1e9);
      default -> null;
    };
  }
}
