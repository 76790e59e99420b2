package io.archway.dataplane.upstream;

import io.archway.dataplane.support.LoopThread;
import io.archway.dataplane.support.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;

/**
 * HTTP/2 connections to nodes ({@code scheme: grpc}, {@code grpcs}), per event loop and {@link
 * Endpoint} like the HTTP/1.1 pools, so they take no locks. A request is one stream: it goes on a
 * connection that has room under the node's {@code SETTINGS_MAX_CONCURRENT_STREAMS} and has not
 * been told GOAWAY, else on a new connection. A stream is a child channel that speaks {@code
 * HttpObject}s ({@link Http2StreamFrameToHttpObjectCodec}), its last handler an {@link
 * UpstreamConnection}, so the proxy drives it as it drives an HTTP/1.1 connection: it reads when it
 * asks (the stream's window stays shut while it does not), and closing it early resets the stream.
 * A GOAWAY from the node stops new streams on that connection; the streams open on it finish, then
 * it is closed. A connection without streams for the upstream's {@code keepalive_pool.idle_timeout}
 * is closed, as an idle HTTP/1.1 connection is.
 */
public final class H2Links {

  // Before the node's SETTINGS arrive the limit is unknown: this many streams are assumed.
  private static final int ASSUMED_STREAMS = 100;
  // The connection window opened to each node: one stalled stream holds at most its own window
  // (64 KiB), so it takes many stalled streams before the others on the connection wait.
  private static final int CONNECTION_WINDOW = 16 << 20;

  private final ConnectionPools pools;
  private final Transport transport;
  private final Map<Endpoint, List<Link>>[] links;
  private final AtomicInteger open = new AtomicInteger();
  private volatile Set<Endpoint> live = Set.of();

  @SuppressWarnings("unchecked")
  H2Links(ConnectionPools pools, Transport transport, int loops) {
    this.pools = pools;
    this.transport = transport;
    this.links = new Map[loops];
    for (int i = 0; i < loops; i++) {
      links[i] = new HashMap<>();
    }
  }

  /** HTTP/2 connections open to nodes now. */
  int open() {
    return open.get();
  }

  /**
   * A new stream to {@code ep}, on a connection of this loop with room or a new one; it completes
   * once the stream's channel is open (the stream itself starts with the request's HEADERS).
   */
  public Future<UpstreamConnection> openStream(EventLoop loop, Endpoint ep, long timeoutMillis) {
    Promise<UpstreamConnection> promise = loop.newPromise();
    int i = LoopThread.current();
    if (i < 0 || i >= links.length) {
      promise.setFailure(new IllegalStateException("not on an event loop"));
      return promise;
    }
    var list = links[i].computeIfAbsent(ep, e -> new ArrayList<>(1));
    for (var link : list) {
      if (link.hasRoom()) {
        link.take(promise);
        return promise;
      }
    }
    var link = new Link(links[i], ep);
    list.add(link);
    link.take(promise);
    link.connect(loop, timeoutMillis);
    return promise;
  }

  /**
   * A stream the proxy is done with: its channel is closed (both sides have ended it, so nothing is
   * sent), and its connection, once it has no streams, waits {@code idleSeconds} for another.
   */
  void release(UpstreamConnection c, double idleSeconds) {
    var ch = c.channel();
    if (ch.parent() != null && ch.parent().pipeline().get("link") instanceof Link link) {
      link.idleNanos = (long) (idleSeconds * 1e9);
    }
    ch.close();
  }

  /** The endpoints of the config in force: connections to others close once their streams end. */
  void retain(Set<Endpoint> endpoints, Iterable<EventLoop> loops) {
    live = endpoints;
    for (var loop : loops) {
      loop.execute(
          () -> {
            int i = LoopThread.current();
            if (i < 0 || i >= links.length) {
              return;
            }
            for (var list : links[i].values().toArray(List[]::new)) {
              for (var link : ((List<Link>) list).toArray(Link[]::new)) {
                link.closeIfUnused();
              }
            }
          });
    }
  }

  /** One HTTP/2 connection to a node, and the streams on it. */
  private final class Link extends ChannelInboundHandlerAdapter {
    private final Map<Endpoint, List<Link>> owner;
    private final Endpoint endpoint;
    private final ArrayDeque<Promise<UpstreamConnection>> waiting = new ArrayDeque<>();
    private Channel channel;
    private Http2FrameCodec codec;
    private boolean ready;
    private boolean closed;
    private boolean goAway;
    private int streams; // open and being opened, waiters included
    // The upstream's keepalive_pool.idle_timeout, as its last stream's release said (APISIX's
    // default until then).
    private long idleNanos = TimeUnit.SECONDS.toNanos(60);
    private ScheduledFuture<?> idleTimer;

    Link(Map<Endpoint, List<Link>> owner, Endpoint endpoint) {
      this.owner = owner;
      this.endpoint = endpoint;
    }

    boolean hasRoom() {
      if (closed || goAway || (ready && codec.connection().goAwayReceived())) {
        return false;
      }
      int max =
          ready
              ? Math.min(codec.connection().remote().maxActiveStreams(), 1 << 16)
              : ASSUMED_STREAMS;
      return streams < max;
    }

    void take(Promise<UpstreamConnection> promise) {
      streams++;
      if (idleTimer != null) {
        idleTimer.cancel(false);
        idleTimer = null;
      }
      if (ready) {
        openStream(promise);
      } else {
        waiting.add(promise);
      }
    }

    void connect(EventLoop loop, long timeoutMillis) {
      var b =
          transport
              .upstreamBootstrap(loop, timeoutMillis)
              // The connection reads for all its streams; each stream reads on its own demand.
              .option(ChannelOption.AUTO_READ, true)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) throws SSLException {
                      if (endpoint.tls()) {
                        ch.pipeline()
                            .addLast("tls", pools.tls().handler(ch, endpoint, timeoutMillis));
                      }
                      codec =
                          Http2FrameCodecBuilder.forClient()
                              .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
                              .build();
                      ch.pipeline()
                          .addLast("h2", codec)
                          .addLast("streams", new Http2MultiplexHandler(new RefusePush()))
                          .addLast("link", Link.this);
                    }
                  });
      var connecting = b.connect(endpoint.host(), endpoint.port());
      channel = connecting.channel();
      channel.closeFuture().addListener(f -> closed());
      connecting.addListener(
          f -> {
            if (!f.isSuccess()) {
              failWaiting(f.cause());
              return;
            }
            open.incrementAndGet();
            channel.closeFuture().addListener(x -> open.decrementAndGet());
            var tls = channel.pipeline().get(SslHandler.class);
            if (tls == null) {
              ready();
              return;
            }
            tls.handshakeFuture()
                .addListener(
                    h -> {
                      if (!h.isSuccess()) {
                        failWaiting(h.cause());
                        channel.close();
                      } else if (!ApplicationProtocolNames.HTTP_2.equals(
                          tls.applicationProtocol())) {
                        failWaiting(
                            new SSLException(
                                "node "
                                    + endpoint.host()
                                    + ":"
                                    + endpoint.port()
                                    + " did not agree to h2 by ALPN"));
                        channel.close();
                      } else {
                        ready();
                      }
                    });
          });
    }

    private void ready() {
      if (closed) {
        return;
      }
      ready = true;
      channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
      Promise<UpstreamConnection> p;
      while ((p = waiting.poll()) != null) {
        openStream(p);
      }
    }

    private void openStream(Promise<UpstreamConnection> promise) {
      var conn = new UpstreamConnection(endpoint);
      new Http2StreamChannelBootstrap(channel)
          .option(ChannelOption.AUTO_READ, false)
          .handler(
              new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel ch) {
                  ch.pipeline()
                      .addLast("codec", new Http2StreamFrameToHttpObjectCodec(false, false))
                      .addLast("connection", conn);
                }
              })
          .open()
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  streamEnded();
                  promise.tryFailure(f.cause());
                  return;
                }
                var ch = (Channel) f.getNow();
                ch.closeFuture().addListener(x -> streamEnded());
                if (!promise.trySuccess(conn)) {
                  ch.close();
                }
              });
    }

    private void streamEnded() {
      streams--;
      closeIfUnused();
      if (streams == 0 && !closed && idleTimer == null) {
        idleTimer = channel.eventLoop().schedule(this::idleClose, idleNanos, TimeUnit.NANOSECONDS);
      }
    }

    private void idleClose() {
      idleTimer = null;
      if (streams == 0 && !closed) {
        channel.close();
      }
    }

    void closeIfUnused() {
      if (streams == 0
          && !closed
          && (goAway
              || !live.contains(endpoint)
              || (ready && codec.connection().goAwayReceived()))) {
        channel.close();
      }
    }

    private void failWaiting(Throwable cause) {
      Promise<UpstreamConnection> p;
      while ((p = waiting.poll()) != null) {
        streams--;
        p.tryFailure(cause);
      }
    }

    private void closed() {
      closed = true;
      var list = owner.get(endpoint);
      if (list != null) {
        list.remove(this);
        if (list.isEmpty()) {
          owner.remove(endpoint);
        }
      }
      failWaiting(new ConnectException("connection to the node closed"));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      // What reaches here concerns the connection (SETTINGS, PING, GOAWAY): the codec has acted on
      // it already.
      if (msg instanceof Http2GoAwayFrame) {
        goAway = true;
      }
      ReferenceCountUtil.release(msg);
      closeIfUnused();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Server push is switched off in SETTINGS; a pushed stream is reset. */
  private static final class RefusePush extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }
}
