package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.GrpcMethods;
import io.archway.dataplane.testing.Pki;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.pkitesting.X509Bundle;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC through the gateway with real grpc-java servers and clients: the four call types, large
 * streamed messages, status and trailers relayed (trailers-only answers included), deadlines and
 * cancellation from each side, the gateway's own refusals as gRPC status, a node failing
 * mid-stream, a reload during a long bidi stream, an HTTP/1.1 client to an h2c node, and grpcs with
 * certificate verification. Methods are declared by hand with a bytes marshaller.
 */
class GrpcIT {

  static MethodDescriptor<byte[], byte[]> method(
      String service, String name, MethodDescriptor.MethodType type) {
    return GrpcMethods.method(service, name, type);
  }

  static final MethodDescriptor<byte[], byte[]> UNARY =
      method("test.Echo", "Unary", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> FAIL =
      method("test.Echo", "Fail", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> HANG =
      method("test.Echo", "Hang", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> STREAM =
      method("test.Echo", "Stream", MethodDescriptor.MethodType.SERVER_STREAMING);
  static final MethodDescriptor<byte[], byte[]> SUM =
      method("test.Echo", "Sum", MethodDescriptor.MethodType.CLIENT_STREAMING);
  static final MethodDescriptor<byte[], byte[]> CHAT =
      method("test.Echo", "Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
  static final MethodDescriptor<byte[], byte[]> SECURE =
      method("test.Secure", "Unary", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> HEALTH =
      method("grpc.health.v1.Health", "Check", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> NOWHERE =
      method("test.Nowhere", "Unary", MethodDescriptor.MethodType.UNARY);

  /** The test service; counts what its calls saw end. */
  static final class Echo {
    final AtomicInteger cancelled = new AtomicInteger();
    final AtomicInteger hanging = new AtomicInteger();
    final AtomicInteger unaryCalls = new AtomicInteger();
    // What Unary calls (test.Echo, test.Secure) and Sum calls carried: a mirror's copies, say.
    final LinkedBlockingQueue<String> payloads = new LinkedBlockingQueue<>();
    // grpc.health.v1 HealthCheckResponse.status: 1 SERVING, 2 NOT_SERVING.
    volatile int health = 1;

    ServerServiceDefinition healthService() {
      return ServerServiceDefinition.builder("grpc.health.v1.Health")
          .addMethod(
              HEALTH,
              ServerCalls.asyncUnaryCall(
                  (req, out) -> {
                    // An empty request (the whole server); the answer's field 1 is the status.
                    out.onNext(new byte[] {0x08, (byte) health});
                    out.onCompleted();
                  }))
          .build();
    }

    ServerServiceDefinition definition() {
      return ServerServiceDefinition.builder("test.Echo")
          .addMethod(
              UNARY,
              ServerCalls.asyncUnaryCall(
                  (req, out) -> {
                    unaryCalls.incrementAndGet();
                    payloads.add("Echo " + text(req));
                    out.onNext(req);
                    out.onCompleted();
                  }))
          .addMethod(
              FAIL,
              ServerCalls.asyncUnaryCall(
                  (req, out) ->
                      out.onError(
                          Status.NOT_FOUND
                              .withDescription(new String(req, StandardCharsets.UTF_8))
                              .asRuntimeException())))
          .addMethod(
              HANG,
              ServerCalls.asyncUnaryCall(
                  (req, out) -> {
                    hanging.incrementAndGet();
                    ((ServerCallStreamObserver<byte[]>) out)
                        .setOnCancelHandler(cancelled::incrementAndGet);
                  }))
          .addMethod(
              STREAM,
              ServerCalls.asyncServerStreamingCall(
                  (req, out) -> {
                    // "count size": count messages of size bytes; "hold": one, then nothing more.
                    var parts = new String(req, StandardCharsets.UTF_8).split(" ");
                    var obs = (ServerCallStreamObserver<byte[]>) out;
                    obs.setOnCancelHandler(cancelled::incrementAndGet);
                    if (parts[0].equals("hold")) {
                      out.onNext("first".getBytes(StandardCharsets.UTF_8));
                      return;
                    }
                    int count = Integer.parseInt(parts[0]);
                    int size = Integer.parseInt(parts[1]);
                    var sent = new AtomicInteger();
                    // Sends only as the transport takes more (flow control end to end).
                    obs.setOnReadyHandler(
                        () -> {
                          while (obs.isReady() && sent.get() < count) {
                            var m = new byte[size];
                            m[0] = (byte) sent.getAndIncrement();
                            obs.onNext(m);
                          }
                          if (sent.get() == count && sent.getAndIncrement() == count) {
                            obs.onCompleted();
                          }
                        });
                  }))
          .addMethod(
              SUM,
              ServerCalls.asyncClientStreamingCall(
                  out ->
                      new StreamObserver<>() {
                        long total;
                        int messages;

                        @Override
                        public void onNext(byte[] value) {
                          total += value.length;
                          messages++;
                        }

                        @Override
                        public void onError(Throwable t) {
                          cancelled.incrementAndGet();
                        }

                        @Override
                        public void onCompleted() {
                          payloads.add("Sum " + messages + " " + total);
                          out.onNext((messages + " " + total).getBytes(StandardCharsets.UTF_8));
                          out.onCompleted();
                        }
                      }))
          .addMethod(
              CHAT,
              ServerCalls.asyncBidiStreamingCall(
                  out ->
                      new StreamObserver<>() {
                        @Override
                        public void onNext(byte[] value) {
                          out.onNext(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                          cancelled.incrementAndGet();
                        }

                        @Override
                        public void onCompleted() {
                          out.onCompleted();
                        }
                      }))
          .build();
    }

    ServerServiceDefinition secure() {
      return ServerServiceDefinition.builder("test.Secure")
          .addMethod(
              SECURE,
              ServerCalls.asyncUnaryCall(
                  (req, out) -> {
                    payloads.add("Secure " + text(req));
                    out.onNext(req);
                    out.onCompleted();
                  }))
          .build();
    }
  }

  static Echo echo;
  static Server server;
  static X509Bundle ca;

  @TempDir Path dir;
  Gateways gw;
  ManagedChannel channel;
  final List<Server> extraServers = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    ca = Pki.authority("Test CA");
    echo = new Echo();
    server = start(echo, null);
  }

  static Server start(Echo e, Path tlsDir) throws Exception {
    var b =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(e.definition())
            .addService(e.secure())
            .addService(e.healthService());
    if (tlsDir != null) {
      var cert = Pki.serverForIp(ca, "127.0.0.1");
      var certFile = Files.writeString(tlsDir.resolve("node.crt"), Pki.chainPem(cert));
      var keyFile = Files.writeString(tlsDir.resolve("node.key"), Pki.keyPem(cert));
      b.sslContext(GrpcSslContexts.forServer(certFile.toFile(), keyFile.toFile()).build());
    }
    return b.build().start();
  }

  @AfterAll
  static void tearDown() {
    server.shutdownNow();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    extraServers.forEach(Server::shutdownNow);
    if (gw != null) {
      gw.close();
    }
  }

  static String node(Server s) {
    return "127.0.0.1:" + s.getPort();
  }

  static String config(String node, String extraRoutes) {
    return """
        routes:
          - id: echo
            uri: /test.Echo/*
            upstream: {scheme: grpc, nodes: {"%s": 1}}
          - id: secure
            uri: /test.Secure/*
            plugins: {key-auth: {}}
            upstream: {scheme: grpc, nodes: {"%s": 1}}
        %s"""
        .formatted(node, node, extraRoutes);
  }

  void start(String yaml) throws Exception {
    gw = Gateways.start(dir, yaml, o -> o.withHttp2(H2Settings.DEFAULTS.withH2c(true)));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", gw.port()).usePlaintext().build();
  }

  CallOptions within(int seconds) {
    return CallOptions.DEFAULT.withDeadlineAfter(seconds, TimeUnit.SECONDS);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** A bidi call whose answers land in a queue. */
  final class Chat {
    final LinkedBlockingQueue<byte[]> answers = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> closed = new CompletableFuture<>();
    final StreamObserver<byte[]> requests;

    Chat(MethodDescriptor<byte[], byte[]> m, CallOptions options) {
      requests =
          ClientCalls.asyncBidiStreamingCall(
              channel.newCall(m, options),
              new StreamObserver<>() {
                @Override
                public void onNext(byte[] value) {
                  answers.add(value);
                }

                @Override
                public void onError(Throwable t) {
                  closed.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                  closed.complete(Status.OK);
                }
              });
    }

    byte[] next() throws InterruptedException {
      var a = answers.poll(10, TimeUnit.SECONDS);
      assertThat(a).as("an answer within 10 s").isNotNull();
      return a;
    }
  }

  @Test
  void allFourCallTypesGoThrough() throws Exception {
    start(config(node(server), ""));
    assertThat(text(ClientCalls.blockingUnaryCall(channel, UNARY, within(10), bytes("hello"))))
        .isEqualTo("hello");

    var it = ClientCalls.blockingServerStreamingCall(channel, STREAM, within(10), bytes("5 10"));
    int n = 0;
    while (it.hasNext()) {
      assertThat(it.next()).hasSize(10);
      n++;
    }
    assertThat(n).isEqualTo(5);

    var sum = new Chat(SUM, within(10));
    for (int i = 0; i < 4; i++) {
      sum.requests.onNext(new byte[100]);
    }
    sum.requests.onCompleted();
    assertThat(text(sum.next())).isEqualTo("4 400");
    assertThat(sum.closed.get(10, TimeUnit.SECONDS).isOk()).isTrue();

    var chat = new Chat(CHAT, within(10));
    for (int i = 0; i < 3; i++) {
      chat.requests.onNext(bytes("m" + i));
      assertThat(text(chat.next())).isEqualTo("m" + i);
    }
    chat.requests.onCompleted();
    assertThat(chat.closed.get(10, TimeUnit.SECONDS).isOk()).isTrue();
  }

  @Test
  void manyConcurrentCallsShareTheNodeConnection() throws Exception {
    start(config(node(server), ""));
    var calls = new ArrayList<CompletableFuture<String>>();
    for (int i = 0; i < 200; i++) {
      var msg = "c" + i;
      calls.add(
          CompletableFuture.supplyAsync(
              () -> text(ClientCalls.blockingUnaryCall(channel, UNARY, within(20), bytes(msg)))));
    }
    for (int i = 0; i < calls.size(); i++) {
      assertThat(calls.get(i).get(30, TimeUnit.SECONDS)).isEqualTo("c" + i);
    }
    // grpc-java allows unlimited concurrent streams: one connection per event loop at most.
    assertThat(gw.dataplane().servers().upstreams().pools().open()).isLessThanOrEqualTo(2);
  }

  @Test
  void largeStreamedMessagesFlowBothWays() throws Exception {
    start(config(node(server), ""));
    // 64 MiB from the node in 1 MiB messages, sent only as the gateway takes them.
    var it =
        ClientCalls.blockingServerStreamingCall(channel, STREAM, within(60), bytes("64 1048576"));
    int n = 0;
    while (it.hasNext()) {
      var m = it.next();
      assertThat(m).hasSize(1 << 20);
      assertThat(m[0]).isEqualTo((byte) n);
      n++;
    }
    assertThat(n).isEqualTo(64);

    // 32 MiB each way on a bidi stream, one message in flight at a time.
    var chat = new Chat(CHAT, within(60));
    for (int i = 0; i < 32; i++) {
      var m = new byte[1 << 20];
      m[1] = (byte) i;
      chat.requests.onNext(m);
      assertThat(chat.next()[1]).isEqualTo((byte) i);
    }
    chat.requests.onCompleted();
    assertThat(chat.closed.get(10, TimeUnit.SECONDS).isOk()).isTrue();
  }

  @Test
  void statusAndTrailersOnlyAnswersAreRelayed() throws Exception {
    start(config(node(server), ""));
    // The node answers with no message: grpc-status, grpc-message in one HEADERS frame.
    assertThatThrownBy(
            () -> ClientCalls.blockingUnaryCall(channel, FAIL, within(10), bytes("no such thing")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription()).isEqualTo("no such thing");
            });
  }

  @Test
  void gatewayRefusalsAreGrpcStatuses() throws Exception {
    start(
        config(node(server), "")
            + """
          - id: down
            uri: /test.Down/*
            upstream: {scheme: grpc, nodes: {"127.0.0.1:1": 1}}
        """);
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, SECURE, within(10), bytes("x")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(
            () -> ClientCalls.blockingUnaryCall(channel, NOWHERE, within(10), bytes("x")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    var down = method("test.Down", "Unary", MethodDescriptor.MethodType.UNARY);
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, down, within(10), bytes("x")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void deadlinesAndClientCancellationResetTheNodesStream() throws Exception {
    start(config(node(server), ""));
    int before = echo.cancelled.get();
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    channel,
                    HANG,
                    CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS),
                    bytes("x")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    await().atMost(Duration.ofSeconds(10)).until(() -> echo.cancelled.get() > before);

    // The client cancels a bidi stream: the node's call is cancelled too.
    int before2 = echo.cancelled.get();
    var chat = new Chat(CHAT, within(30));
    chat.requests.onNext(bytes("one"));
    assertThat(text(chat.next())).isEqualTo("one");
    chat.requests.onError(Status.CANCELLED.asRuntimeException());
    await().atMost(Duration.ofSeconds(10)).until(() -> echo.cancelled.get() > before2);
  }

  @Test
  void theGatewayEnforcesGrpcTimeoutForAnHttp1Client() throws Exception {
    start(config(node(server), ""));
    int before = echo.cancelled.get();
    var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    // A gRPC message, framed: no compression, length 1, "x". The client sets no deadline of its
    // own: only the gateway's grpc-timeout can end it.
    var framed = new byte[] {0, 0, 0, 0, 1, 'x'};
    var res =
        client.send(
            HttpRequest.newBuilder(URI.create(gw.url("/test.Echo/Hang")))
                .header("content-type", "application/grpc")
                .header("grpc-timeout", "300m")
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(framed))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("grpc-status")).hasValue("4");
    await().atMost(Duration.ofSeconds(10)).until(() -> echo.cancelled.get() > before);

    // An HTTP/1.1 client's unary call to the h2c node: the answer comes back framed.
    var unary =
        client.send(
            HttpRequest.newBuilder(URI.create(gw.url("/test.Echo/Unary")))
                .header("content-type", "application/grpc")
                .POST(HttpRequest.BodyPublishers.ofByteArray(framed))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(unary.statusCode()).isEqualTo(200);
    assertThat(unary.headers().firstValue("content-type")).hasValue("application/grpc");
    assertThat(unary.body()).containsExactly(framed);
  }

  @Test
  void aNodeFailingMidStreamIsUnavailable() throws Exception {
    var own = new Echo();
    var node = start(own, null);
    extraServers.add(node);
    start(config(node(node), ""));
    var it = ClientCalls.blockingServerStreamingCall(channel, STREAM, within(20), bytes("hold"));
    assertThat(text(it.next())).isEqualTo("first");
    node.shutdownNow();
    assertThatThrownBy(it::hasNext)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aLongBidiStreamSurvivesAReload() throws Exception {
    start(config(node(server), ""));
    var chat = new Chat(CHAT, within(30));
    chat.requests.onNext(bytes("before"));
    assertThat(text(chat.next())).isEqualTo("before");
    gw.reload(
        config(node(server), "")
            + """
              - id: another
                uri: /another
                upstream: {nodes: {"127.0.0.1:1": 1}}
            """);
    chat.requests.onNext(bytes("after"));
    assertThat(text(chat.next())).isEqualTo("after");
    chat.requests.onCompleted();
    assertThat(chat.closed.get(10, TimeUnit.SECONDS).isOk()).isTrue();
    // New calls go through the new config.
    assertThat(text(ClientCalls.blockingUnaryCall(channel, UNARY, within(10), bytes("new"))))
        .isEqualTo("new");
  }

  @Test
  void grpcsVerifiesTheNodesCertificate() throws Exception {
    var tlsNode = start(new Echo(), dir);
    extraServers.add(tlsNode);
    var other = Pki.authority("Other CA");
    start(
        """
        routes:
          - id: good
            uri: /test.Echo/*
            upstream:
              scheme: grpcs
              nodes: {"%s": 1}
              tls: {verify: true, ca: %s}
          - id: bad
            uri: /test.Secure/*
            upstream:
              scheme: grpcs
              nodes: {"%s": 1}
              tls: {verify: true, ca: %s}
        """
            .formatted(
                node(tlsNode),
                Pki.yaml(ca.getCertificatePEM()),
                node(tlsNode),
                Pki.yaml(other.getCertificatePEM())));
    assertThat(text(ClientCalls.blockingUnaryCall(channel, UNARY, within(10), bytes("tls"))))
        .isEqualTo("tls");
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, SECURE, within(10), bytes("x")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aGrpcMirrorGetsACopyOfEachCallOverHttp2() throws Exception {
    // A grpc:// mirror is spoken to over h2c with prior knowledge, a grpcs:// one over h2 by ALPN:
    // grpc-java servers take nothing else (an HTTP/1.1 copy would be refused).
    var plain = new Echo();
    var secure = new Echo();
    var plainMirror = start(plain, null);
    var tlsMirror = start(secure, dir);
    extraServers.add(plainMirror);
    extraServers.add(tlsMirror);
    start(
        """
        routes:
          - id: echo
            uri: /test.Echo/*
            plugins: {proxy-mirror: {host: "grpc://%s"}}
            upstream: {scheme: grpc, nodes: {"%s": 1}}
          - id: secure
            uri: /test.Secure/*
            plugins: {proxy-mirror: {host: "grpcs://%s"}}
            upstream: {scheme: grpc, nodes: {"%s": 1}}
        """
            .formatted(node(plainMirror), node(server), node(tlsMirror), node(server)));
    assertThat(text(ClientCalls.blockingUnaryCall(channel, UNARY, within(10), bytes("copy me"))))
        .isEqualTo("copy me");
    assertThat(plain.payloads.poll(10, TimeUnit.SECONDS)).isEqualTo("Echo copy me");
    assertThat(text(ClientCalls.blockingUnaryCall(channel, SECURE, within(10), bytes("over tls"))))
        .isEqualTo("over tls");
    assertThat(secure.payloads.poll(10, TimeUnit.SECONDS)).isEqualTo("Secure over tls");
    // A streamed call is copied too, its messages in one body.
    var sum = new Chat(SUM, within(10));
    sum.requests.onNext(new byte[3]);
    sum.requests.onNext(new byte[4]);
    sum.requests.onCompleted();
    assertThat(text(sum.next())).isEqualTo("2 7");
    assertThat(sum.closed.get(10, TimeUnit.SECONDS).isOk()).isTrue();
    assertThat(plain.payloads.poll(10, TimeUnit.SECONDS)).isEqualTo("Sum 2 7");
  }

  @Test
  void grpcHealthChecksTakeNotServingNodesOut() throws Exception {
    var a = new Echo();
    var b = new Echo();
    var nodeA = start(a, null);
    var nodeB = start(b, null);
    extraServers.add(nodeA);
    extraServers.add(nodeB);
    b.health = 2;
    start(
        """
        routes:
          - id: echo
            uri: /test.Echo/*
            upstream:
              scheme: grpc
              nodes: {"%s": 1, "%s": 1}
              checks:
                active:
                  type: grpc
                  healthy: {interval: 1, successes: 1}
                  unhealthy: {interval: 1, http_failures: 1}
        """
            .formatted(node(nodeA), node(nodeB)));
    await().atMost(Duration.ofSeconds(15)).until(() -> tenCallsReachOnly(a, b));
    // The other way round: b serves again, a no longer.
    b.health = 1;
    a.health = 2;
    await().atMost(Duration.ofSeconds(15)).until(() -> tenCallsReachOnly(b, a));
  }

  /** Ten unary calls, all answered by {@code serving} and none by {@code notServing}. */
  boolean tenCallsReachOnly(Echo serving, Echo notServing) {
    int before = notServing.unaryCalls.get();
    int servedBefore = serving.unaryCalls.get();
    for (int i = 0; i < 10; i++) {
      ClientCalls.blockingUnaryCall(channel, UNARY, within(10), bytes("h"));
    }
    return notServing.unaryCalls.get() == before && serving.unaryCalls.get() == servedBefore + 10;
  }
}
