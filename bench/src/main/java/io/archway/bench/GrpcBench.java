package io.archway.bench;

import io.archway.dataplane.testing.GrpcMethods;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Unary gRPC, ghz-style: a grpc-java client keeps {@code concurrency} calls in flight over {@code
 * connections} channels (HTTP/2 connections), each call a 100-byte echo, first straight to a
 * grpc-java server, then through Archway (h2c from the client, {@code scheme: grpc} to the same
 * server), round after round in the same run. Reports calls per second and latency percentiles of
 * the best round of each, and each round's gateway rate against the same round's direct rate.
 *
 * <p>Usage: {@code bench/run grpc [calls] [concurrency] [connections] [rounds] [workers]}
 */
public final class GrpcBench {

  private static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder(GrpcMethods.BYTES, GrpcMethods.BYTES)
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("bench.Echo/Unary")
          .build();

  record Run(double seconds, int calls, int failed, List<Double> millis) {
    double rate() {
      return calls / seconds;
    }
  }

  public static void main(String[] args) {
    BenchSupport.main(args, GrpcBench::run);
  }

  static void run(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int connections = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    int workers = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    var dir = Files.createTempDirectory("archway-grpc-bench");
    // The server answers on its Netty threads (direct executor), as a tuned grpc-java service does.
    int serverPort = Ports.free();
    Server server =
        NettyServerBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", serverPort))
            .directExecutor()
            .addService(
                ServerServiceDefinition.builder("bench.Echo")
                    .addMethod(
                        ECHO,
                        ServerCalls.asyncUnaryCall(
                            (byte[] req, StreamObserver<byte[]> out) -> {
                              out.onNext(req);
                              out.onCompleted();
                            }))
                    .build())
            .build()
            .start();
    var yaml = dir.resolve("apisix.yaml");
    Files.writeString(
        yaml,
        """
        routes:
          - id: grpc
            uri: /bench.Echo/*
            upstream: {scheme: grpc, nodes: {"127.0.0.1:%d": 1}}
        #END
        """
            .formatted(serverPort));
    int http = Ports.free();
    var gateway =
        JarProcess.start(
            Path.of("dataplane/target/archway-dataplane.jar"),
            dir.resolve("dataplane.log"),
            BenchSupport.jvm("-Xms256m", "-Xmx256m", "-XX:+UseParallelGC"),
            List.of(
                "--standalone",
                yaml.toString(),
                "--bind",
                "127.0.0.1",
                "--http-port",
                "" + http,
                "--h2c",
                "--https-port",
                "0",
                "--admin-port",
                "off",
                "--status-port",
                "" + Ports.free(),
                "--workers",
                "" + workers,
                "--access-log",
                "off"));
    var direct = channels(serverPort, connections);
    var via = channels(http, connections);
    try {
      awaitUp(via.get(0));
      for (int w = 0; w < 2; w++) {
        load(direct, calls / 2, concurrency);
        load(via, calls / 2, concurrency);
      }
      Run bestDirect = null;
      Run bestGateway = null;
      var ratios = new ArrayList<Double>();
      for (int r = 0; r < rounds; r++) {
        var d = load(direct, calls, concurrency);
        var g = load(via, calls, concurrency);
        System.out.printf(
            "round %d: direct %.0f calls/s, through Archway %.0f calls/s (%d failed);"
                + " Archway / direct %.2f%n",
            r + 1, d.rate(), g.rate(), g.failed(), g.rate() / d.rate());
        ratios.add(g.rate() / d.rate());
        bestDirect = bestDirect == null || d.rate() > bestDirect.rate() ? d : bestDirect;
        bestGateway = bestGateway == null || g.rate() > bestGateway.rate() ? g : bestGateway;
      }
      System.out.printf(
          "%n%d unary calls of 100 bytes, %d in flight over %d connections, Archway %d worker(s)%n",
          calls, concurrency, connections, workers);
      System.out.println("| path | calls/s | p50 ms | p99 ms | p99.9 ms | failed |");
      System.out.println("|---|---:|---:|---:|---:|---:|");
      row("direct", bestDirect);
      row("through Archway", bestGateway);
      System.out.printf(
          "best against best: %.2f; round by round: median %.2f, lowest %.2f (target: at least"
              + " 0.80)%n",
          bestGateway.rate() / bestDirect.rate(),
          BenchSupport.pct(ratios, 50),
          BenchSupport.pct(ratios, 0));
    } finally {
      for (var c : direct) {
        c.shutdownNow();
      }
      for (var c : via) {
        c.shutdownNow();
      }
      gateway.destroy();
      gateway.waitFor(10, TimeUnit.SECONDS);
      server.shutdownNow();
    }
  }

  private static void row(String name, Run r) {
    System.out.printf(
        "| %s | %.0f | %.2f | %.2f | %.2f | %d |%n",
        name,
        r.rate(),
        BenchSupport.pct(r.millis(), 50),
        BenchSupport.pct(r.millis(), 99),
        BenchSupport.pct(r.millis(), 99.9),
        r.failed());
  }

  private static List<ManagedChannel> channels(int port, int n) {
    var out = new ArrayList<ManagedChannel>();
    for (int i = 0; i < n; i++) {
      out.add(
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .directExecutor()
              .build());
    }
    return out;
  }

  private static void awaitUp(ManagedChannel channel) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      try {
        ClientCalls.blockingUnaryCall(
            channel, ECHO, CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.SECONDS), new byte[1]);
        return;
      } catch (RuntimeException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("the gateway never answered a gRPC call");
  }

  /** {@code calls} calls, {@code concurrency} at a time: each finished call starts the next. */
  private static Run load(List<ManagedChannel> channels, int calls, int concurrency)
      throws InterruptedException {
    var payload = new byte[100];
    var started = new AtomicInteger();
    var failed = new AtomicInteger();
    var done = new CountDownLatch(calls);
    var nanos = new long[calls];
    long t0 = System.nanoTime();
    for (int i = 0; i < Math.min(concurrency, calls); i++) {
      next(channels, payload, started, failed, done, nanos, calls);
    }
    done.await();
    double seconds = (System.nanoTime() - t0) / 1e9;
    var millis = new ArrayList<Double>(calls);
    for (long n : nanos) {
      millis.add(n / 1e6);
    }
    return new Run(seconds, calls, failed.get(), millis);
  }

  private static void next(
      List<ManagedChannel> channels,
      byte[] payload,
      AtomicInteger started,
      AtomicInteger failed,
      CountDownLatch done,
      long[] nanos,
      int calls) {
    int i = started.getAndIncrement();
    if (i >= calls) {
      return;
    }
    var channel = channels.get(i % channels.size());
    long t = System.nanoTime();
    ClientCalls.asyncUnaryCall(
        channel.newCall(ECHO, CallOptions.DEFAULT),
        payload,
        new StreamObserver<>() {
          @Override
          public void onNext(byte[] value) {}

          @Override
          public void onError(Throwable e) {
            failed.incrementAndGet();
            end();
          }

          @Override
          public void onCompleted() {
            end();
          }

          private void end() {
            nanos[i] = System.nanoTime() - t;
            done.countDown();
            next(channels, payload, started, failed, done, nanos, calls);
          }
        });
  }
}
