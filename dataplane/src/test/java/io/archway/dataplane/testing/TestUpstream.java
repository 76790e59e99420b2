package io.archway.dataplane.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP/1.1 server on loopback, the node behind the gateway in tests. Paths: {@code /ws}
 * (WebSocket echo), {@code /upload} (counts the streamed body, answers the count), {@code
 * /download?size=N} (streams N bytes, chunked, as fast as the reader takes them), {@code /echo}
 * (answers the body), {@code /status/N}, {@code /delay/MS}, {@code /hold} or {@code .../hold}
 * (answered once {@link #release()} is called), anything else: the node's name. Every answer
 * carries {@code X-Node} and the request's headers as {@code X-Seen-*}.
 */
public final class TestUpstream implements AutoCloseable {

  private final String name;
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Channel server;
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong uploaded = new AtomicLong();
  private final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> released = new CompletableFuture<>();
  private volatile int forcedStatus;
  private volatile String lastRequest;

  public TestUpstream(String name) throws InterruptedException {
    this(name, 0);
  }

  public TestUpstream(String name, int port) throws InterruptedException {
    this.name = name;
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    channels.add(ch);
                    connections.incrementAndGet();
                    ch.pipeline()
                        .addLast("codec", new HttpServerCodec())
                        .addLast("chunks", new ChunkedWriteHandler())
                        .addLast("handler", new Handler());
                  }
                })
            .bind("127.0.0.1", port)
            .sync()
            .channel();
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public String node() {
    return "127.0.0.1:" + port();
  }

  public String name() {
    return name;
  }

  public int requests() {
    return requests.get();
  }

  public int connections() {
    return connections.get();
  }

  /** Connections open now (the group drops closed ones). */
  public int openConnections() {
    return channels.size();
  }

  /** Headers of the last request, lower-case names. */
  /** The method and request target of the last request, e.g. {@code GET /a?x=1}. */
  public String lastRequest() {
    return lastRequest;
  }

  public Map<String, String> lastHeaders() {
    return lastHeaders;
  }

  /** Answers the {@code /hold} requests held so far, and any later one at once. */
  public void release() {
    released.complete(null);
  }

  /** Answers every plain request with this status from now on ({@code 0}: normal). */
  public void forceStatus(int status) {
    forcedStatus = status;
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    channels.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
    private HttpRequest request;
    private long bodyBytes;
    private ByteBuf echo;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest req) {
        request = req;
        bodyBytes = 0;
        if (new QueryStringDecoder(req.uri()).path().equals("/ws")
            && req.headers().contains(HttpHeaderNames.UPGRADE)) {
          upgrade(ctx, req);
          return;
        }
        requests.incrementAndGet();
        lastHeaders.clear();
        lastRequest = req.method().name() + " " + req.uri();
        req.headers().forEach(e -> lastHeaders.put(e.getKey().toLowerCase(), e.getValue()));
        if (HttpUtil.is100ContinueExpected(req)) {
          ctx.writeAndFlush(
              new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
      }
      if (msg instanceof HttpContent c && request != null) {
        bodyBytes += c.content().readableBytes();
        uploaded.addAndGet(c.content().readableBytes());
        if (path().equals("/echo")) {
          if (echo == null) {
            echo = ctx.alloc().buffer();
          }
          echo.writeBytes(c.content());
        }
        if (c instanceof LastHttpContent) {
          var req = request;
          request = null;
          answer(ctx, req);
        }
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (echo != null) {
        echo.release();
        echo = null;
      }
      ctx.fireChannelInactive();
    }

    private String path() {
      return new QueryStringDecoder(request.uri()).path();
    }

    private void upgrade(ChannelHandlerContext ctx, HttpRequest req) {
      var p = ctx.pipeline();
      p.remove("chunks");
      p.addAfter("codec", "agg", new HttpObjectAggregator(65536));
      p.addAfter("agg", "ws", new WebSocketServerProtocolHandler("/ws"));
      p.addAfter(
          "ws",
          "echo",
          new SimpleChannelInboundHandler<WebSocketFrame>() {
            @Override
            protected void channelRead0(ChannelHandlerContext c, WebSocketFrame f) {
              if (f instanceof TextWebSocketFrame t) {
                c.writeAndFlush(
                    new TextWebSocketFrame(t.isFinalFragment(), t.rsv(), name + ":" + t.text()));
              } else {
                c.writeAndFlush(f.retain());
              }
            }
          });
      p.remove(this);
      p.context("agg").fireChannelRead(req);
    }

    private void answer(ChannelHandlerContext ctx, HttpRequest req) {
      var q = new QueryStringDecoder(req.uri());
      var path = q.path();
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (forcedStatus != 0) {
        send(ctx, keepAlive, forcedStatus, name);
        return;
      }
      if (path.equals("/upload")) {
        send(ctx, keepAlive, 200, Long.toString(bodyBytes));
      } else if (path.equals("/echo")) {
        var body = echo == null ? Unpooled.EMPTY_BUFFER : echo;
        echo = null;
        var res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        res.headers().set("X-Node", name);
        write(ctx, res, keepAlive);
      } else if (path.equals("/download")) {
        long size = Long.parseLong(q.parameters().get("size").get(0));
        var head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpUtil.setTransferEncodingChunked(head, true);
        head.headers().set("X-Node", name);
        ctx.write(head);
        var done = ctx.writeAndFlush(new Zeros(size));
        if (!keepAlive) {
          done.addListener(ChannelFutureListener.CLOSE);
        }
      } else if (path.startsWith("/status/")) {
        send(ctx, keepAlive, Integer.parseInt(path.substring(8)), name);
      } else if (path.endsWith("/hold")) {
        released.thenRun(() -> ctx.executor().execute(() -> send(ctx, keepAlive, 200, name)));
      } else if (path.startsWith("/delay/")) {
        long ms = Long.parseLong(path.substring(7));
        ctx.executor().schedule(() -> send(ctx, keepAlive, 200, name), ms, TimeUnit.MILLISECONDS);
      } else if (path.equals("/close")) {
        ctx.close();
      } else {
        send(ctx, keepAlive, 200, name);
      }
    }

    private void send(ChannelHandlerContext ctx, boolean keepAlive, int status, String body) {
      var bytes = body.getBytes(StandardCharsets.UTF_8);
      var res =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(status),
              Unpooled.wrappedBuffer(bytes));
      res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
      res.headers().set("X-Node", name);
      write(ctx, res, keepAlive);
    }

    private void write(ChannelHandlerContext ctx, DefaultFullHttpResponse res, boolean keepAlive) {
      if (!keepAlive) {
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      var f = ctx.writeAndFlush(res);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }
  }

  /** {@code size} zero bytes in 16 KiB chunks, produced as the connection takes them. */
  private static final class Zeros implements ChunkedInput<HttpContent> {
    private final long size;
    private long sent;
    private boolean lastSent;

    Zeros(long size) {
      this.size = size;
    }

    @Override
    public boolean isEndOfInput() {
      return lastSent;
    }

    @Override
    public void close() {}

    @Override
    @Deprecated
    public HttpContent readChunk(ChannelHandlerContext ctx) {
      return readChunk(ctx.alloc());
    }

    @Override
    public HttpContent readChunk(ByteBufAllocator alloc) {
      if (sent >= size) {
        lastSent = true;
        return LastHttpContent.EMPTY_LAST_CONTENT;
      }
      int n = (int) Math.min(16384, size - sent);
      sent += n;
      var buf = alloc.buffer(n);
      buf.writeZero(n);
      return new io.netty.handler.codec.http.DefaultHttpContent(buf);
    }

    @Override
    public long length() {
      return size;
    }

    @Override
    public long progress() {
      return sent;
    }
  }
}
