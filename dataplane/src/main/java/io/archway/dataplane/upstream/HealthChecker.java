package io.archway.dataplane.upstream;

import io.archway.dataplane.support.Transport;
import io.archway.model.HealthChecks;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Active health checks of one upstream: every node is probed every {@code healthy.interval} seconds
 * while healthy and every {@code unhealthy.interval} while not, at most {@code concurrency} probes
 * at a time. An HTTP(S) probe's status counts as a success or a failure by the configured lists; a
 * connect failure counts as a TCP failure, no answer in {@code timeout} as a timeout. A {@code
 * grpc} probe ({@link GrpcHealthProbe}) counts SERVING as a success and any other answer as a
 * failure. Runs on its own event loop, never on the traffic loops.
 */
final class HealthChecker {

  private final UpstreamRuntime upstream;
  private final HealthChecks.Active active;
  private final io.netty.channel.EventLoop loop;
  private final Transport transport;
  private final ConnectionPools pools;
  private final List<ScheduledFuture<?>> timers = new ArrayList<>();
  private int running;
  private volatile boolean stopped;

  HealthChecker(
      UpstreamRuntime upstream, EventLoopGroup group, Transport transport, ConnectionPools pools) {
    this.pools = pools;
    this.upstream = upstream;
    this.active = upstream.checks().active();
    this.loop = group.next();
    this.transport = transport;
  }

  void start() {
    loop.execute(
        () -> {
          for (var node : upstream.nodes()) {
            schedule(loop, node, 0);
          }
        });
  }

  void stop() {
    stopped = true;
    loop.execute(() -> timers.forEach(t -> t.cancel(false)));
  }

  private void schedule(io.netty.channel.EventLoop loop, NodeState node, long delayMillis) {
    if (stopped) {
      return;
    }
    timers.removeIf(java.util.concurrent.Future::isDone);
    timers.add(
        loop.schedule(
            () -> {
              if (stopped) {
                return;
              }
              long next = 1000L * interval(node);
              if (running >= active.concurrency()) {
                schedule(loop, node, next);
                return;
              }
              running++;
              probe(
                  loop,
                  node,
                  done -> {
                    running--;
                    schedule(loop, node, next);
                  });
            },
            delayMillis,
            TimeUnit.MILLISECONDS));
  }

  private int interval(NodeState node) {
    var i = node.healthy() ? active.healthy().interval() : active.unhealthy().interval();
    return i == null || i <= 0 ? 1 : i;
  }

  private void probe(io.netty.channel.EventLoop loop, NodeState node, Consumer<Void> done) {
    long timeoutMillis = Math.max(1, (long) (active.timeout() * 1000));
    int port = active.port() != null ? active.port() : node.port();
    boolean tcp = "tcp".equals(active.type());
    boolean grpc = "grpc".equals(active.type());
    var result = new Result(node, done);
    var b =
        new Bootstrap()
            .group(loop)
            .channel(transport.socketChannel())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    if (tcp) {
                      return;
                    }
                    if (grpc) {
                      GrpcHealthProbe.install(ch);
                      return;
                    }
                    if ("https".equals(active.type())) {
                      var host = active.host() != null ? active.host() : node.host();
                      ch.pipeline()
                          .addLast(
                              pools
                                  .tls()
                                  .sslContext(active.httpsVerifyCertificate())
                                  .newHandler(ch.alloc(), host, port));
                    }
                    ch.pipeline()
                        .addLast(new HttpClientCodec())
                        .addLast(
                            new SimpleChannelInboundHandler<HttpObject>() {
                              @Override
                              protected void channelRead0(ChannelHandlerContext ctx, HttpObject m) {
                                if (m instanceof HttpResponse res) {
                                  result.status(res.status().code());
                                  ctx.close();
                                }
                              }

                              @Override
                              public void exceptionCaught(ChannelHandlerContext ctx, Throwable c) {
                                result.tcpFailure();
                                ctx.close();
                              }
                            });
                  }
                });
    b.connect(node.host(), port)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                result.tcpFailure();
                return;
              }
              Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
              if (tcp) {
                result.success();
                ch.close();
                return;
              }
              var timer =
                  loop.schedule(
                      () -> {
                        result.timeout();
                        ch.close();
                      },
                      timeoutMillis,
                      TimeUnit.MILLISECONDS);
              ch.closeFuture()
                  .addListener(
                      x -> {
                        timer.cancel(false);
                        result.tcpFailure(); // no status before the close; ignored if one came
                      });
              if (grpc) {
                var host = active.host() != null ? active.host() : node.host();
                GrpcHealthProbe.send(
                    ch, host + ":" + port, result::grpcServing, result::tcpFailure);
              } else {
                ch.writeAndFlush(request(node, port));
              }
            });
  }

  private DefaultFullHttpRequest request(NodeState node, int port) {
    var req =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.GET, active.httpPath(), Unpooled.EMPTY_BUFFER);
    var host = active.host() != null ? active.host() : node.host();
    req.headers()
        .set(HttpHeaderNames.HOST, port == 80 || port == 443 ? host : host + ":" + port)
        .set(HttpHeaderNames.USER_AGENT, "archway-healthcheck")
        .set(HttpHeaderNames.CONNECTION, "close");
    for (var h : active.reqHeaders()) {
      int colon = h.indexOf(':');
      if (colon > 0) {
        req.headers().add(h.substring(0, colon).strip(), h.substring(colon + 1).strip());
      }
    }
    return req;
  }

  /** The first outcome of one probe counts; later ones (the close after a status) do not. */
  private final class Result {
    private final NodeState node;
    private final Consumer<Void> done;
    private boolean settled;

    Result(NodeState node, Consumer<Void> done) {
      this.node = node;
      this.done = done;
    }

    private boolean settle() {
      if (settled) {
        return false;
      }
      settled = true;
      done.accept(null);
      return !stopped;
    }

    void status(int code) {
      if (!settle()) {
        return;
      }
      if (active.healthy().httpStatuses().contains(code)) {
        node.success(active.healthy());
      } else if (active.unhealthy().httpStatuses().contains(code)) {
        node.failure(active.unhealthy(), NodeState.Failure.HTTP_STATUS);
      }
    }

    /** A gRPC health answer: SERVING is a success, anything else an unhealthy status. */
    void grpcServing(boolean serving) {
      if (!settle()) {
        return;
      }
      if (serving) {
        node.success(active.healthy());
      } else {
        node.failure(active.unhealthy(), NodeState.Failure.HTTP_STATUS);
      }
    }

    void success() {
      if (settle()) {
        node.success(active.healthy());
      }
    }

    void tcpFailure() {
      if (settle()) {
        node.failure(active.unhealthy(), NodeState.Failure.TCP);
      }
    }

    void timeout() {
      if (settle()) {
        node.failure(active.unhealthy(), NodeState.Failure.TIMEOUT);
      }
    }
  }
}
