package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.support.ChannelReady;
import io.archway.dataplane.support.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The proxy's Redis upstream connections other than those of {@code multiplex: false} routes, per
 * event loop and node ({@link Node}): the shared link ({@link SharedLink}), made on first use and
 * forgotten when closed; the admission probe, which tells whether a new client would have to
 * authenticate; and a few spare connections, made ahead, so that a session moving to a connection
 * of its own never waits for a connect while other clients' commands go ahead of it. Each event
 * loop's map is touched only by that loop's thread, so a session and its connections never cross
 * threads.
 */
public final class RedisLinks {

  /** Spare connections kept ready per event loop and node. */
  static final int MAX_SPARES = 2;

  private static final AtomicLong LINK_NUMBERS = new AtomicLong();
  static final byte[] PING = "*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII);
  // On a connection made by Node#answered: whether the server answered its PING with +PONG.
  private static final AttributeKey<Boolean> AUTHENTICATED =
      AttributeKey.valueOf(RedisLinks.class, "authenticated");

  private final Transport transport;
  private final StreamMetrics metrics;
  private final Map<EventLoop, Map<String, Node>> byLoop = new ConcurrentHashMap<>();
  // Per node, across loops: until when (System.nanoTime) a CLIENT PAUSE sent through the proxy
  // holds; 0 when none.
  private final Map<String, AtomicLong> pauses = new ConcurrentHashMap<>();

  public RedisLinks(Transport transport, StreamMetrics metrics) {
    this.transport = transport;
    this.metrics = metrics;
  }

  /** The loop's connections to {@code host:port}. Call on {@code loop}. */
  public Node node(EventLoop loop, String host, int port, long connectTimeout) {
    var nodes = byLoop.computeIfAbsent(loop, l -> new HashMap<>());
    var key = host + ":" + port;
    var n = nodes.get(key);
    if (n == null) {
      n = new Node(loop, host, port, pauses.computeIfAbsent(key, k -> new AtomicLong()));
      nodes.put(key, n);
    }
    n.connectTimeout = connectTimeout;
    return n;
  }

  /** The loop's shared link to {@code host:port} (see {@link Node#link}). Call on {@code loop}. */
  Future<SharedLink> acquire(EventLoop loop, String host, int port, long connectTimeout) {
    return node(loop, host, port, connectTimeout).link();
  }

  /** What a new client learns when it is admitted. */
  public interface Admission {
    /**
     * {@code authenticated}: a connection made now would be authenticated (the server's default
     * user needs no password), so the client may share; {@code failure}: the node is unreachable.
     */
    void admitted(boolean authenticated, Throwable failure);
  }

  private record Spare(Channel channel, boolean authenticated) {}

  /** One event loop's connections to one node. Everything here runs on that loop. */
  public final class Node {
    private final EventLoop loop;
    private final String host;
    private final int port;
    private long connectTimeout;
    private Promise<SharedLink> link;
    private final ArrayDeque<Spare> spares = new ArrayDeque<>();
    private List<Admission> waiting = new ArrayList<>();
    private boolean probing;
    private final AtomicLong pausedUntil;

    Node(EventLoop loop, String host, int port, AtomicLong pausedUntil) {
      this.loop = loop;
      this.host = host;
      this.port = port;
      this.pausedUntil = pausedUntil;
    }

    /**
     * Whether a {@code CLIENT PAUSE} sent through the proxy to this node holds now. While it does,
     * shared sessions move to connections of their own before sending anything, so that each paused
     * client waits on its own connection (as Redis counts and lists them) and none waits behind
     * another on a link.
     */
    boolean paused() {
      long until = pausedUntil.get();
      return until != 0 && System.nanoTime() - until < 0;
    }

    /** {@code CLIENT PAUSE timeout} for {@code millis}, or {@code CLIENT UNPAUSE} (0), was sent. */
    void pause(long millis) {
      pausedUntil.set(millis <= 0 ? 0 : System.nanoTime() + millis * 1_000_000L);
    }

    /**
     * Tells {@code a} whether a connection made after this call is authenticated by the server
     * without {@code AUTH}: a connection is opened for it (one for all the clients waiting at the
     * time) and sent a {@code PING}. Redis decides a connection's authentication when it accepts
     * it, and a link made earlier keeps what it had then, so only a connection newer than the
     * client can answer for it. The probe connection is kept as a spare.
     */
    public void admit(Admission a) {
      waiting.add(a);
      if (!probing) {
        probe();
      }
    }

    private void probe() {
      probing = true;
      var batch = waiting;
      waiting = new ArrayList<>();
      answered()
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (!f.isSuccess()) {
                      probed(batch, false, f.cause());
                      return;
                    }
                    boolean ok = f.channel().attr(AUTHENTICATED).get();
                    keep(new Spare(f.channel(), ok));
                    probed(batch, ok, null);
                  });
    }

    private void probed(List<Admission> batch, boolean ok, Throwable failure) {
      probing = false;
      for (var a : batch) {
        a.admitted(ok, failure);
      }
      if (!waiting.isEmpty()) {
        probe();
      }
    }

    private void keep(Spare s) {
      if (spares.size() >= MAX_SPARES) {
        s.channel().close();
        return;
      }
      spares.add(s);
      s.channel().closeFuture().addListener(x -> spares.remove(s));
      // A spare is read while it waits, only to see the server close it (Redis restarted, or its
      // timeout): a half-closed spare would look active and fail the session that takes it.
      s.channel().pipeline().addLast(SpareWatch.NAME, new SpareWatch());
      s.channel().read();
      if (!s.authenticated()) {
        // Kept only to serve the clients this probe admitted; made again when needed.
        loop.schedule(
            () -> {
              if (spares.remove(s)) {
                s.channel().close();
              }
            },
            SharedLink.LINGER_SECONDS,
            TimeUnit.SECONDS);
      }
    }

    /**
     * A connection of a session's own, not yet read: a spare made earlier when there is one whose
     * authentication matches {@code authenticated}, at once, else a new one once the server has
     * answered a {@code PING} on it ({@link #answered}). Taking a spare makes another.
     */
    public ChannelFuture own(boolean authenticated) {
      for (var it = spares.iterator(); it.hasNext(); ) {
        var s = it.next();
        if (s.authenticated() == authenticated && s.channel().isActive()) {
          it.remove();
          s.channel().pipeline().remove(SpareWatch.NAME);
          if (authenticated && !probing) {
            probe(); // a new spare, for the next session that moves
          }
          return s.channel().newSucceededFuture();
        }
      }
      return answered();
    }

    /**
     * A new connection, complete once the server has answered a {@code PING} on it, either way: its
     * {@link #AUTHENTICATED} says whether with {@code +PONG} (an error such as {@code -NOAUTH}
     * means the connection must authenticate). A connect alone is done when the kernel has the
     * connection, before Redis has accepted it; a command written then can reach Redis after a
     * command written later on a connection it already serves, so a session moving off the shared
     * link would be overtaken by what the link sends after it. A connection Redis has answered on
     * is one it serves, as a spare is.
     */
    private ChannelFuture answered() {
      return ChannelReady.after(
          open(),
          (ch, ready) -> {
            ch.pipeline()
                .addLast(
                    "probe",
                    new ProbeReply(
                        ok -> {
                          ch.attr(AUTHENTICATED).set(ok);
                          if (ch.isActive()) {
                            ready.trySuccess();
                          } else {
                            ready.tryFailure(closedByServer());
                          }
                        },
                        () -> ready.tryFailure(closedByServer())));
            ch.writeAndFlush(Unpooled.wrappedBuffer(PING));
            ch.read();
          });
    }

    private static ConnectException closedByServer() {
      return new ConnectException("connection closed by the server");
    }

    /** Closes the spares: no session uses the node's shared link any more. */
    void closeSpares() {
      Spare s;
      while ((s = spares.poll()) != null) {
        s.channel().close();
      }
    }

    private ChannelFuture open() {
      return transport
          .upstreamBootstrap(loop, connectTimeout)
          .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .connect(host, port);
    }

    /**
     * The shared link, connected or being connected; it is ready once its {@code CLIENT SETNAME} is
     * answered, which also tells whether the server lets it run commands without {@code AUTH}
     * ({@link SharedLink#usable}). A failed connect fails the future and every caller waiting on
     * it, and the next call tries again.
     */
    public Future<SharedLink> link() {
      var known = link;
      if (known != null && (!known.isDone() || (known.isSuccess() && known.getNow().isActive()))) {
        return known;
      }
      Promise<SharedLink> promise = loop.newPromise();
      link = promise;
      transport
          .upstreamBootstrap(loop, connectTimeout)
          .connect(host, port)
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (!f.isSuccess()) {
                      if (link == promise) {
                        link = null;
                      }
                      promise.setFailure(f.cause());
                      return;
                    }
                    var ch = f.channel();
                    var name = "archway-shared-" + LINK_NUMBERS.incrementAndGet();
                    var shared = new SharedLink(ch, metrics, promise, this::closeSpares);
                    ch.pipeline().addLast("shared-link", shared);
                    metrics.upstreamOpened(true);
                    ch.closeFuture()
                        .addListener(
                            x -> {
                              if (link == promise) {
                                link = null;
                              }
                              metrics.upstreamClosed(true);
                            });
                    ch.config().setAutoRead(true);
                    // Pipelined: the link is ready when it is answered.
                    shared.name(name);
                  });
      return promise;
    }
  }

  /**
   * Watches a spare connection while it waits to be taken: Redis sends nothing unasked, so any byte
   * or the end of its input means the connection is no longer one to hand out; it is closed.
   */
  private static final class SpareWatch extends ClosedWhenInputEnds {
    static final String NAME = "spare";

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
      ctx.close();
    }
  }

  /**
   * A handler on a connection that allows half-closure, where the end of the server's input means
   * the connection is done: no channelInactive would follow on its own, so it is closed here (and
   * on an error).
   */
  private abstract static class ClosedWhenInputEnds extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ctx.close();
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /**
   * Reads a probe's reply line: {@code +PONG} (authenticated) or an error ({@code -NOAUTH}). A
   * server that closes the probe before its reply (killed, or shut down, after reading the PING)
   * ends its input: the probe is closed then, or the node would wait for it for good, and every
   * client admitted after it with it.
   */
  private static final class ProbeReply extends ClosedWhenInputEnds {
    private final Consumer<Boolean> done;
    private final Runnable closed;
    private final ByteBuf line = Unpooled.buffer(64, 4096);
    private boolean told;

    ProbeReply(Consumer<Boolean> done, Runnable closed) {
      this.done = done;
      this.closed = closed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof ByteBuf b) {
          line.writeBytes(b, Math.min(b.readableBytes(), line.maxWritableBytes()));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
      int lf = line.indexOf(0, line.writerIndex(), (byte) '\n');
      if (lf < 0 && line.isWritable()) {
        ctx.read();
        return;
      }
      // An error (-NOAUTH) leaves a connection as new as any: it is kept too.
      boolean ok = lf >= 0 && line.getByte(0) == '+';
      told = true;
      ctx.pipeline().remove(this);
      if (lf < 0) {
        ctx.close();
      }
      done.accept(ok);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!told) {
        told = true;
        closed.run();
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      line.release();
    }
  }
}
