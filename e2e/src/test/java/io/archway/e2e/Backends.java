package io.archway.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.GrpcMethods;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.UdpServer;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.pkitesting.X509Bundle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * The real upstream servers of the conformance suite, on loopback ports: each answers with its own
 * name, so a test sees which backend a request reached, as the upstream suite's echo server does.
 */
public final class Backends {

  private Backends() {}

  static final ObjectMapper JSON = new ObjectMapper();

  /** A backend with a name, on a loopback port. */
  public interface Backend extends AutoCloseable {
    String name();

    int port();

    @Override
    void close();
  }

  /**
   * An HTTP echo: answers 200 with JSON {@code {backend, method, path (with the query), host,
   * headers: {lower-case name: [values]}}} and the response headers {@code X-Echo-Backend} and
   * {@code X-Header-Remove}; {@code ?delay=MS} answers after that many milliseconds. Every request
   * is kept in {@link #seen()} (the mirror tests read it).
   */
  public static final class HttpEcho implements Backend {
    private final String name;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();

    public HttpEcho(String name) throws IOException {
      this.name = name;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(threads);
      server.createContext(
          "/",
          ex -> {
            var uri = ex.getRequestURI();
            var query = uri.getRawQuery();
            if (query != null && query.startsWith("delay=")) {
              try {
                Thread.sleep(Long.parseLong(query.substring("delay=".length())));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            var headers = new TreeMap<String, List<String>>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v));
            var echo = new LinkedHashMap<String, Object>();
            echo.put("backend", name);
            echo.put("method", ex.getRequestMethod());
            echo.put("path", uri.getRawPath() + (query == null ? "" : "?" + query));
            echo.put("host", ex.getRequestHeaders().getFirst("Host"));
            echo.put("headers", headers);
            seen.add(uri.getRawPath());
            ex.getRequestBody().readAllBytes();
            var body = JSON.writeValueAsBytes(echo);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.getResponseHeaders().add("X-Echo-Backend", name);
            ex.getResponseHeaders().add("X-Header-Remove", "present");
            ex.sendResponseHeaders(200, body.length);
            try (var out = ex.getResponseBody()) {
              out.write(body);
            }
          });
      server.start();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int port() {
      return server.getAddress().getPort();
    }

    /** The paths of the requests it received, in order. */
    public ConcurrentLinkedQueue<String> seen() {
      return seen;
    }

    @Override
    public void close() {
      server.stop(0);
      threads.shutdownNow();
    }
  }

  /** Accepts connections on a thread of its own and hands each to {@code serve}. */
  private abstract static class SocketBackend implements Backend {
    final String name;
    final ServerSocket socket;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    SocketBackend(String name, ServerSocket socket) {
      this.name = name;
      this.socket = socket;
      threads.execute(
          () -> {
            while (!socket.isClosed()) {
              try {
                var c = socket.accept();
                threads.execute(
                    () -> {
                      try (c) {
                        serve(c);
                      } catch (IOException e) {
                        // the peer went away: nothing to answer
                      }
                    });
              } catch (IOException e) {
                return; // closed
              }
            }
          });
    }

    abstract void serve(Socket c) throws IOException;

    @Override
    public String name() {
      return name;
    }

    @Override
    public int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      threads.shutdownNow();
    }
  }

  /** A TCP backend: reads a line, answers {@code <name>:<line>}. */
  static final class TcpEcho extends SocketBackend {
    TcpEcho(String name) throws IOException {
      super(name, new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    }

    @Override
    void serve(Socket c) throws IOException {
      var line =
          new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      c.getOutputStream().write((name + ":" + line + "\n").getBytes(StandardCharsets.UTF_8));
      c.getOutputStream().flush();
    }
  }

  /**
   * A TLS server with its own certificate (the passthrough tests see it end to end): after the
   * handshake, answers {@code <name>} and the server name the client asked for.
   */
  static final class TlsEcho extends SocketBackend {
    TlsEcho(String name, X509Bundle cert) throws Exception {
      super(name, serverSocket(cert));
    }

    private static ServerSocket serverSocket(X509Bundle cert) throws Exception {
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(cert.toKeyManagerFactory().getKeyManagers(), null, null);
      return (SSLServerSocket)
          ctx.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @Override
    void serve(Socket c) throws IOException {
      var tls = (javax.net.ssl.SSLSocket) c;
      tls.startHandshake();
      var line = new BufferedReader(new InputStreamReader(c.getInputStream())).readLine();
      c.getOutputStream().write((name + ":" + line + "\n").getBytes(StandardCharsets.UTF_8));
      c.getOutputStream().flush();
    }
  }

  /** A UDP backend: answers each datagram with {@code <name>:<payload>}. */
  static final class UdpEcho implements Backend {
    private final String name;
    private final UdpServer server;

    UdpEcho(String name) throws IOException {
      this.name = name;
      server = new UdpServer((payload, port) -> name + ":" + payload);
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int port() {
      return server.port();
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /** The upstream suite's gRPC echo service. */
  static final String GRPC_SERVICE = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho";

  /** The methods of {@link #GRPC_SERVICE}: Echo, EchoTwo, EchoThree. */
  static final Map<String, MethodDescriptor<byte[], byte[]>> GRPC_METHODS =
      Map.of(
          "Echo", grpcMethod("Echo"),
          "EchoTwo", grpcMethod("EchoTwo"),
          "EchoThree", grpcMethod("EchoThree"));

  private static MethodDescriptor<byte[], byte[]> grpcMethod(String name) {
    return GrpcMethods.method(GRPC_SERVICE, name, MethodDescriptor.MethodType.UNARY);
  }

  /** A real grpc-java server (h2c): each method answers {@code <name>/<method>}. */
  static final class GrpcEcho implements Backend {
    private final String name;
    private final Server server;

    GrpcEcho(String name) throws IOException {
      this.name = name;
      var service = ServerServiceDefinition.builder(GRPC_SERVICE);
      GRPC_METHODS.forEach(
          (method, d) ->
              service.addMethod(
                  d,
                  ServerCalls.asyncUnaryCall(
                      (req, out) -> {
                        out.onNext((name + "/" + method).getBytes(StandardCharsets.UTF_8));
                        out.onCompleted();
                      })));
      server =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(service.build())
              .build()
              .start();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int port() {
      return server.getPort();
    }

    @Override
    public void close() {
      server.shutdownNow();
    }
  }

  /**
   * An HTTP echo that speaks HTTP/2 in clear text with prior knowledge only (h2c, as a Service port
   * of {@code appProtocol: kubernetes.io/h2c} says): an HTTP/1.1 request is not a connection
   * preface, so the connection is closed. Answers as {@link HttpEcho} does, plus {@code protocol}.
   */
  static final class H2cEcho implements Backend {
    private final String name;
    private final EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    H2cEcho(String name) throws InterruptedException {
      this.name = name;
      server =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast(
                              Http2FrameCodecBuilder.forServer().build(),
                              new Http2MultiplexHandler(
                                  new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel s) {
                                      s.pipeline()
                                          .addLast(
                                              new Http2StreamFrameToHttpObjectCodec(true),
                                              new HttpObjectAggregator(1 << 20),
                                              new Answer());
                                    }
                                  }));
                    }
                  })
              .bind("127.0.0.1", 0)
              .sync()
              .channel();
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
      @Override
      protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req)
          throws IOException {
        var headers = new TreeMap<String, List<String>>();
        req.headers()
            .forEach(
                e ->
                    headers
                        .computeIfAbsent(e.getKey().toLowerCase(), k -> new ArrayList<>())
                        .add(e.getValue()));
        var echo = new LinkedHashMap<String, Object>();
        echo.put("backend", name);
        echo.put("protocol", "HTTP/2.0");
        echo.put("method", req.method().name());
        echo.put("path", req.uri());
        echo.put("host", req.headers().get("host"));
        echo.put("headers", headers);
        var body = Unpooled.wrappedBuffer(JSON.writeValueAsBytes(echo));
        var res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        res.headers()
            .set("content-type", "application/json")
            .set("x-echo-backend", name)
            .setInt("content-length", body.readableBytes());
        ctx.writeAndFlush(res);
      }
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int port() {
      return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
      server.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /**
   * A WebSocket echo ({@link TestUpstream}, the dataplane tests' node): an upgrade on {@code /ws}
   * answers each text message with {@code <name>:<message>}.
   */
  static final class WsEcho implements Backend {
    private final TestUpstream server;

    WsEcho(String name) throws InterruptedException {
      server = new TestUpstream(name);
    }

    @Override
    public String name() {
      return server.name();
    }

    @Override
    public int port() {
      return server.port();
    }

    @Override
    public void close() {
      server.close();
    }
  }
}
