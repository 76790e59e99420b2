package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import io.archway.dataplane.admin.AdminSettings;
import io.archway.dataplane.plugin.Protos;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.testing.Gateways;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-transcode through a real dataplane to a real grpc-java server whose messages are made from
 * the same .proto (DynamicMessage): GET query arguments and POST JSON bodies, nested messages,
 * enums, repeated fields; an error status with google.rpc.Status details in the body; a deadline;
 * the proto from the standalone file and over the Admin API; routes naming a missing proto or
 * method refused at load.
 */
class GrpcTranscodeIT {

  static final String PROTO =
      """
      syntax = "proto3";
      package shop.v1;

      enum Size { SIZE_UNKNOWN = 0; SMALL = 1; LARGE = 2; }

      message Item {
        string name = 1;
        Size size = 2;
        repeated int32 counts = 3;
        message Price { int64 cents = 1; string currency = 2; }
        Price price = 4;
      }

      message Order { string customer = 1; repeated Item items = 2; bool gift = 3; repeated string tags = 4; }

      message Receipt {
        string customer = 1;
        int32 items = 2;
        int64 total = 3;
        repeated string names = 4;
        Size biggest = 5;
        Item.Price first_price = 6;
        bool gift = 7;
        repeated string tags = 8;
      }

      message Problem { string field = 1; string reason = 2; }

      service Shop {
        rpc Checkout (Order) returns (Receipt);
        rpc Fail (Order) returns (Receipt);
        rpc Slow (Order) returns (Receipt);
      }
      """;

  static final ObjectMapper JSON = new ObjectMapper();
  static Protos.Compiled proto;
  static Server server;
  static final AtomicInteger cancelled = new AtomicInteger();

  @TempDir Path dir;
  Gateways gw;
  Dataplane admin;
  final HttpClient client = HttpClient.newHttpClient();

  static Descriptors.Descriptor type(String name) {
    return proto.files().get(0).findMessageTypeByName(name);
  }

  static Object field(DynamicMessage m, String name) {
    return m.getField(m.getDescriptorForType().findFieldByName(name));
  }

  /** Checkout: a receipt made from the order, so the test sees every field went through. */
  static byte[] checkout(byte[] request) throws Exception {
    var order = DynamicMessage.parseFrom(type("Order"), request);
    var receipt = DynamicMessage.newBuilder(type("Receipt"));
    var r = type("Receipt");
    receipt.setField(r.findFieldByName("customer"), field(order, "customer"));
    var items = (List<?>) field(order, "items");
    receipt.setField(r.findFieldByName("items"), items.size());
    long total = 0;
    Descriptors.EnumValueDescriptor biggest = null;
    for (var o : items) {
      var item = (DynamicMessage) o;
      var price = (DynamicMessage) field(item, "price");
      long count = 0;
      for (var c : (List<?>) field(item, "counts")) {
        count += (Integer) c;
      }
      total += (Long) field(price, "cents") * count;
      receipt.addRepeatedField(r.findFieldByName("names"), field(item, "name"));
      var size = (Descriptors.EnumValueDescriptor) field(item, "size");
      if (biggest == null || size.getNumber() > biggest.getNumber()) {
        biggest = size;
      }
    }
    receipt.setField(r.findFieldByName("total"), total);
    if (biggest != null) {
      receipt.setField(r.findFieldByName("biggest"), biggest);
      receipt.setField(
          r.findFieldByName("first_price"), field((DynamicMessage) items.get(0), "price"));
    }
    receipt.setField(r.findFieldByName("gift"), field(order, "gift"));
    for (var t : (List<?>) field(order, "tags")) {
      receipt.addRepeatedField(r.findFieldByName("tags"), t);
    }
    return receipt.build().toByteArray();
  }

  @BeforeAll
  static void setUp() throws Exception {
    proto = Protos.compile("shop", PROTO);
    MethodDescriptor<byte[], byte[]> checkout =
        GrpcIT.method("shop.v1.Shop", "Checkout", MethodDescriptor.MethodType.UNARY);
    MethodDescriptor<byte[], byte[]> fail =
        GrpcIT.method("shop.v1.Shop", "Fail", MethodDescriptor.MethodType.UNARY);
    MethodDescriptor<byte[], byte[]> slow =
        GrpcIT.method("shop.v1.Shop", "Slow", MethodDescriptor.MethodType.UNARY);
    var service =
        ServerServiceDefinition.builder("shop.v1.Shop")
            .addMethod(
                checkout,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      try {
                        out.onNext(checkout(req));
                        out.onCompleted();
                      } catch (Exception e) {
                        out.onError(Status.INTERNAL.withDescription(e.toString()).asException());
                      }
                    }))
            .addMethod(
                fail,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      var problem =
                          DynamicMessage.newBuilder(type("Problem"))
                              .setField(type("Problem").findFieldByName("field"), "customer")
                              .setField(type("Problem").findFieldByName("reason"), "is empty")
                              .build();
                      var any =
                          DynamicMessage.newBuilder(com.google.protobuf.Any.getDescriptor())
                              .setField(
                                  com.google.protobuf.Any.getDescriptor()
                                      .findFieldByName("type_url"),
                                  "type.googleapis.com/shop.v1.Problem")
                              .setField(
                                  com.google.protobuf.Any.getDescriptor().findFieldByName("value"),
                                  problem.toByteString())
                              .build();
                      // google.rpc.Status {code = 1, message = 2, details = 3}, by hand.
                      var status = ByteString.newOutput();
                      try {
                        var cos = com.google.protobuf.CodedOutputStream.newInstance(status);
                        cos.writeInt32(1, 3);
                        cos.writeString(2, "bad order");
                        cos.writeMessage(3, any);
                        cos.flush();
                      } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                      }
                      var trailers = new Metadata();
                      trailers.put(
                          Metadata.Key.of(
                              "grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER),
                          status.toByteString().toByteArray());
                      out.onError(
                          Status.INVALID_ARGUMENT
                              .withDescription("bad order")
                              .asRuntimeException(trailers));
                    }))
            .addMethod(
                slow,
                ServerCalls.asyncUnaryCall(
                    (req, out) ->
                        ((ServerCallStreamObserver<byte[]>) out)
                            .setOnCancelHandler(cancelled::incrementAndGet)))
            .build();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(service)
            .build()
            .start();
  }

  @AfterAll
  static void tearDown() {
    server.shutdownNow();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (admin != null) {
      admin.close();
    }
  }

  static String indent(String text, int spaces) {
    return text.indent(spaces);
  }

  String routes() {
    var node = GrpcIT.node(server);
    return """
        routes:
          - id: checkout
            uri: /checkout
            plugins:
              grpc-transcode: {proto_id: "1", service: shop.v1.Shop, method: Checkout}
            upstream: {scheme: grpc, nodes: {"%1$s": 1}}
          - id: fail
            uri: /fail
            plugins:
              grpc-transcode:
                proto_id: "1"
                service: shop.v1.Shop
                method: Fail
                show_status_in_body: true
                status_detail_type: shop.v1.Problem
            upstream: {scheme: grpc, nodes: {"%1$s": 1}}
          - id: fail-plain
            uri: /fail-plain
            plugins:
              grpc-transcode: {proto_id: "1", service: shop.v1.Shop, method: Fail}
            upstream: {scheme: grpc, nodes: {"%1$s": 1}}
          - id: slow
            uri: /slow
            plugins:
              grpc-transcode: {proto_id: "1", service: shop.v1.Shop, method: Slow, deadline: 300}
            upstream: {scheme: grpc, nodes: {"%1$s": 1}}
          - id: no-proto
            uri: /no-proto
            plugins:
              grpc-transcode: {proto_id: "9", service: shop.v1.Shop, method: Checkout}
            upstream: {scheme: grpc, nodes: {"%1$s": 1}}
          - id: no-method
            uri: /no-method
            plugins:
              grpc-transcode: {proto_id: "1", service: shop.v1.Shop, method: Nope}
            upstream: {scheme: grpc, nodes: {"%1$s": 1}}
        """
        .formatted(node);
  }

  HttpResponse<String> get(int port, String pathAndQuery) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(int port, String path, String json) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("content-type", "application/json")
            .timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  void checkTranscoding(int port) throws Exception {
    // GET: query arguments, a repeated one repeated.
    var g = get(port, "/checkout?customer=ann&gift=true&tags=a&tags=b&unknown=1");
    assertThat(g.statusCode()).as(g.body()).isEqualTo(200);
    assertThat(g.headers().firstValue("content-type")).hasValue("application/json");
    var gj = JSON.readTree(g.body());
    assertThat(gj.path("customer").asText()).isEqualTo("ann");
    assertThat(gj.path("gift").asBoolean()).isTrue();
    assertThat(gj.path("tags").toString()).isEqualTo("[\"a\",\"b\"]");
    // proto3: fields at their defaults are shown, as APISIX's auto_default_values.
    assertThat(gj.path("items").asInt(-1)).isZero();
    assertThat(gj.path("biggest").asText()).isEqualTo("SIZE_UNKNOWN");

    // POST: a JSON body with nested messages, enums and repeated fields.
    var p =
        post(
            port,
            "/checkout",
            """
            {"customer": "bob", "items": [
              {"name": "tea", "size": "SMALL", "counts": [1, 2], "price": {"cents": 150, "currency": "EUR"}},
              {"name": "cake", "size": 2, "counts": [1], "price": {"cents": "400"}}]}
            """);
    assertThat(p.statusCode()).as(p.body()).isEqualTo(200);
    JsonNode pj = JSON.readTree(p.body());
    assertThat(pj.path("customer").asText()).isEqualTo("bob");
    assertThat(pj.path("items").asInt()).isEqualTo(2);
    assertThat(pj.path("total").asLong()).isEqualTo(150 * 3 + 400);
    // int64 as JSON numbers, APISIX's default (int64_as_number), nested ones too.
    assertThat(pj.path("total").isNumber()).isTrue();
    assertThat(pj.path("first_price").path("cents").isNumber()).isTrue();
    assertThat(pj.path("names").toString()).isEqualTo("[\"tea\",\"cake\"]");
    assertThat(pj.path("biggest").asText()).isEqualTo("LARGE");
    assertThat(pj.path("first_price").path("currency").asText()).isEqualTo("EUR");
    assertThat(pj.path("first_price").path("cents").asLong()).isEqualTo(150);

    // A body that does not map to the message: 400 before the node.
    assertThat(post(port, "/checkout", "{\"items\": 5}").statusCode()).isEqualTo(400);
  }

  @Test
  void standaloneProtoGetPostErrorsAndDeadline() throws Exception {
    var yaml = routes() + "protos:\n  - id: \"1\"\n    content: |\n" + PROTO.indent(8);
    gw = Gateways.start(dir, yaml);
    int port = gw.port();
    checkTranscoding(port);

    // The node's INVALID_ARGUMENT: APISIX's 400, the google.rpc.Status in the body, its details
    // decoded as shop.v1.Problem.
    var f = get(port, "/fail?customer=");
    assertThat(f.statusCode()).isEqualTo(400);
    var fj = JSON.readTree(f.body());
    assertThat(fj.at("/error/code").asInt()).isEqualTo(3);
    assertThat(fj.at("/error/message").asText()).isEqualTo("bad order");
    assertThat(fj.at("/error/details/0/field").asText()).isEqualTo("customer");
    assertThat(fj.at("/error/details/0/reason").asText()).isEqualTo("is empty");
    assertThat(f.headers().firstValue("grpc-status")).isEmpty();
    // Without show_status_in_body: the status only.
    var plain = get(port, "/fail-plain");
    assertThat(plain.statusCode()).isEqualTo(400);
    assertThat(plain.body()).isEmpty();

    // deadline: 300 ms as grpc-timeout; DEADLINE_EXCEEDED is APISIX's 504.
    int before = cancelled.get();
    var slow = get(port, "/slow");
    assertThat(slow.statusCode()).isEqualTo(504);
    await().atMost(Duration.ofSeconds(10)).until(() -> cancelled.get() > before);

    // Routes naming a missing proto or method are refused at load, with why.
    assertThat(get(port, "/no-proto").statusCode()).isEqualTo(404);
    assertThat(get(port, "/no-method").statusCode()).isEqualTo(404);
    var why = String.join("\n", gw.dataplane().servers().compiler().lastRejections());
    assertThat(why)
        .contains("routes/no-proto", "proto_id: \"9\"")
        .contains("routes/no-method", "\"shop.v1.Shop/Nope\" is not in proto 1")
        .contains("shop.v1.Shop/Checkout");
  }

  @Test
  void protoOverTheAdminApi() throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: []\n#END\n");
    var key = "edd1c9f034335f136f87ad84b625c8f1";
    admin =
        new Dataplane(
                DataplaneOptions.standaloneOnLoopback(file)
                    .withAdmin(AdminSettings.onLoopback(key, "viewer-key-0123456789", true)))
            .start();
    await().atMost(Duration.ofSeconds(10)).until(() -> admin.config().loaded());
    var base = "http://127.0.0.1:" + admin.servers().adminPort() + "/apisix/admin/";
    var put =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "protos/1"))
                .header("X-API-KEY", key)
                .PUT(
                    HttpRequest.BodyPublishers.ofString(
                        JSON.createObjectNode().put("content", PROTO).toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
    var route =
        """
        {"uri": "/checkout",
         "plugins": {"grpc-transcode": {"proto_id": "1", "service": "shop.v1.Shop", "method": "Checkout"}},
         "upstream": {"scheme": "grpc", "nodes": {"%s": 1}}}
        """
            .formatted(GrpcIT.node(server));
    var r =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "routes/checkout"))
                .header("X-API-KEY", key)
                .PUT(HttpRequest.BodyPublishers.ofString(route))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    int port = admin.servers().httpPort();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(port, "/checkout?customer=x").statusCode() == 200);
    checkTranscoding(port);
    // A proto that does not parse is refused by the Admin API, as APISIX parses it on write.
    var bad =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "protos/2"))
                .header("X-API-KEY", key)
                .PUT(
                    HttpRequest.BodyPublishers.ofString(
                        JSON.createObjectNode().put("content", "message {").toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("content: ", "Syntax error");
  }
}
