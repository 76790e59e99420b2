package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tracing plugins through a real dataplane and a real upstream, each reporting to a real HTTP
 * server written here: an OTLP/HTTP receiver that decodes the protobuf {@code
 * ExportTraceServiceRequest} field by field (protobuf-java's generic parser, numbers from
 * opentelemetry-proto's trace.proto), a Zipkin collector that reads the v2 JSON, and a SkyWalking
 * OAP that reads {@code /v3/segments}. Each test also checks what the upstream received (the
 * injected {@code traceparent}, {@code X-B3-*}, {@code sw8}).
 */
class TracingPluginsIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  final List<Collector> collectors = new CopyOnWriteArrayList<>();

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
    up.close();
    collectors.forEach(Collector::close);
  }

  String route(String id, String uri, String plugins) {
    return """
          - id: %s
            uri: %s
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        """
        .formatted(id, uri, up.node(), plugins.indent(6).stripTrailing());
  }

  /** One POST a collector received. */
  record Post(String path, Map<String, String> headers, byte[] body) {
    JsonNode json() throws IOException {
      return ModelJson.mapper().readTree(body);
    }
  }

  /** An HTTP server standing in for a collector: records every POST, answers 200. */
  final class Collector implements AutoCloseable {
    final HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    final List<Post> posts = new CopyOnWriteArrayList<>();
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    final java.util.concurrent.atomic.AtomicInteger arrived =
        new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean hang;

    Collector() throws IOException {
      server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
      server.createContext(
          "/",
          ex -> {
            var body = ex.getRequestBody().readAllBytes();
            arrived.incrementAndGet();
            if (hang) {
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            var headers = new LinkedHashMap<String, String>();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
            posts.add(new Post(ex.getRequestURI().getPath(), headers, body));
            ex.sendResponseHeaders(200, -1);
            ex.close();
          });
      server.start();
      collectors.add(this);
    }

    String address() {
      return "127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      release.countDown();
      server.stop(0);
    }
  }

  // OTLP: opentelemetry/proto/collector/trace/v1 ExportTraceServiceRequest, decoded by number.

  /** A span as the receiver decoded it, with its resource's attributes. */
  record OtlpSpan(
      String traceId,
      String spanId,
      String parentSpanId,
      String traceState,
      String name,
      long kind,
      long start,
      long end,
      Map<String, Object> attributes,
      long statusCode,
      Map<String, Object> resource,
      String scope) {}

  static List<OtlpSpan> decode(byte[] request) throws IOException {
    var out = new ArrayList<OtlpSpan>();
    var hex = HexFormat.of();
    for (var rs : fields(UnknownFieldSet.parseFrom(request), 1)) { // resource_spans
      var resourceSpans = UnknownFieldSet.parseFrom(rs);
      var resource = new LinkedHashMap<String, Object>();
      for (var r : fields(resourceSpans, 1)) { // resource
        attributes(UnknownFieldSet.parseFrom(r), 1, resource);
      }
      for (var ss : fields(resourceSpans, 2)) { // scope_spans
        var scopeSpans = UnknownFieldSet.parseFrom(ss);
        var scope = "";
        for (var sc : fields(scopeSpans, 1)) {
          scope = text(UnknownFieldSet.parseFrom(sc), 1);
        }
        for (var sp : fields(scopeSpans, 2)) { // spans
          var s = UnknownFieldSet.parseFrom(sp);
          var attrs = new LinkedHashMap<String, Object>();
          attributes(s, 9, attrs);
          long status = 0;
          for (var st : fields(s, 15)) {
            var f = UnknownFieldSet.parseFrom(st).getField(3).getVarintList();
            status = f.isEmpty() ? 0 : f.get(0);
          }
          var parent = fields(s, 4);
          out.add(
              new OtlpSpan(
                  hex.formatHex(fields(s, 1).get(0).toByteArray()),
                  hex.formatHex(fields(s, 2).get(0).toByteArray()),
                  parent.isEmpty() ? "" : hex.formatHex(parent.get(0).toByteArray()),
                  text(s, 3),
                  text(s, 5),
                  s.getField(6).getVarintList().stream().findFirst().orElse(0L),
                  s.getField(7).getFixed64List().get(0),
                  s.getField(8).getFixed64List().get(0),
                  attrs,
                  status,
                  resource,
                  scope));
        }
      }
    }
    return out;
  }

  static List<ByteString> fields(UnknownFieldSet set, int number) {
    return set.hasField(number) ? set.getField(number).getLengthDelimitedList() : List.of();
  }

  static String text(UnknownFieldSet set, int number) {
    var f = fields(set, number);
    return f.isEmpty() ? "" : f.get(0).toStringUtf8();
  }

  /** KeyValue{1 key, 2 AnyValue{1 string, 2 bool, 3 int, 4 double}} fields numbered {@code n}. */
  static void attributes(UnknownFieldSet set, int n, Map<String, Object> out) throws IOException {
    for (var kv : fields(set, n)) {
      var pair = UnknownFieldSet.parseFrom(kv);
      var value = UnknownFieldSet.parseFrom(fields(pair, 2).get(0));
      Object v;
      if (value.hasField(1)) {
        v = text(value, 1);
      } else if (value.hasField(2)) {
        v = value.getField(2).getVarintList().get(0) != 0;
      } else if (value.hasField(3)) {
        v = value.getField(3).getVarintList().get(0);
      } else {
        v = Double.longBitsToDouble(value.getField(4).getFixed64List().get(0));
      }
      out.put(text(pair, 1), v);
    }
  }

  List<OtlpSpan> spans(Collector c) throws IOException {
    var all = new ArrayList<OtlpSpan>();
    for (var p : c.posts) {
      all.addAll(decode(p.body()));
    }
    return all;
  }

  String otelMetadata(Collector c, String more) {
    return """
        plugin_metadata:
          - id: opentelemetry
            resource: {service.name: gateway-a, env: test}
            collector:
              address: %s
              request_timeout: 2
              request_headers: {x-api-key: k1}
            batch_span_processor: {inactive_timeout: 0.2, max_export_batch_size: 16}
        %s
        """
        .formatted(c.address(), more.indent(4).stripTrailing());
  }

  @Test
  void opentelemetryExportsAServerSpanUnderTheClientsParentAndPassesItsContextUpstream()
      throws Exception {
    var c = new Collector();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/otel/*",
                    """
                    opentelemetry:
                      sampler: {name: always_on}
                      additional_attributes: [arg_user, "$http_x_plan"]
                      additional_header_prefix_attributes: ["x-tenant-*"]
                    """)
                + otelMetadata(c, ""));
    var trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    var parent = "00f067aa0ba902b7";
    var res =
        gw.get(
            "/otel/a?user=ann",
            "traceparent",
            "00-" + trace + "-" + parent + "-01",
            "tracestate",
            "vendor=v1",
            "x-plan",
            "gold",
            "x-tenant-id",
            "t7",
            "user-agent",
            "it/1");
    assertThat(res.statusCode()).isEqualTo(200);
    var sent = up.lastHeaders().get("traceparent");
    assertThat(sent).startsWith("00-" + trace + "-").endsWith("-01");
    var spanId = sent.split("-")[2];
    assertThat(spanId).isNotEqualTo(parent).hasSize(16);
    assertThat(up.lastHeaders().get("tracestate")).isEqualTo("vendor=v1");

    await().atMost(Duration.ofSeconds(10)).until(() -> !spans(c).isEmpty());
    var post = c.posts.get(0);
    assertThat(post.path()).isEqualTo("/v1/traces");
    assertThat(post.headers().get("content-type")).isEqualTo("application/x-protobuf");
    assertThat(post.headers().get("x-api-key")).isEqualTo("k1");
    var span = spans(c).get(0);
    assertThat(span.traceId()).isEqualTo(trace);
    assertThat(span.parentSpanId()).isEqualTo(parent);
    assertThat(span.spanId()).isEqualTo(spanId);
    assertThat(span.traceState()).isEqualTo("vendor=v1");
    assertThat(span.name()).isEqualTo("GET /otel/*");
    assertThat(span.kind()).isEqualTo(2L); // SPAN_KIND_SERVER
    assertThat(span.end()).isGreaterThanOrEqualTo(span.start());
    assertThat(span.scope()).isEqualTo("opentelemetry-lua");
    assertThat(span.attributes())
        .containsEntry("http.method", "GET")
        .containsEntry("http.scheme", "http")
        .containsEntry("http.target", "/otel/a?user=ann")
        .containsEntry("http.user_agent", "it/1")
        .containsEntry("http.route", "/otel/*")
        .containsEntry("apisix.route_id", "r1")
        .containsEntry("http.status_code", 200L)
        .containsEntry("arg_user", "ann")
        .containsEntry("http_x_plan", "gold")
        .containsEntry("x-tenant-id", "t7");
    assertThat(span.resource())
        .containsEntry("service.name", "gateway-a")
        .containsEntry("env", "test")
        .containsKey("hostname");
  }

  @Test
  void opentelemetryFollowsTheParentsDecisionAndTakesTheRequestIdAsANewTracesId() throws Exception {
    var c = new Collector();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/pb",
                    """
                    opentelemetry:
                      sampler: {name: parent_base, options: {root: {name: always_on}}}
                    """)
                + route(
                    "r2",
                    "/off",
                    """
                    opentelemetry: {}
                    """)
                + route(
                    "r3",
                    "/err",
                    """
                    opentelemetry: {sampler: {name: always_on}}
                    """)
                + otelMetadata(c, "trace_id_source: x-request-id\nset_ngx_var: true"));
    // An unsampled parent: not exported, and the upstream hears it is not sampled.
    var unsampled = "0af7651916cd43dd8448eb211c80319c";
    gw.get("/pb", "traceparent", "00-" + unsampled + "-b7ad6b7169203331-00");
    assertThat(up.lastHeaders().get("traceparent")).startsWith("00-" + unsampled).endsWith("-00");
    // always_off (the default): a context is still passed on, never exported.
    gw.get("/off");
    assertThat(up.lastHeaders().get("traceparent")).endsWith("-00");
    // No parent: parent_base's root sampler, the trace id from X-Request-Id.
    var requestId = "d3f1e2c4-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    gw.get("/pb", "x-request-id", requestId);
    var rootTrace = requestId.replace("-", "");
    assertThat(up.lastHeaders().get("traceparent")).startsWith("00-" + rootTrace).endsWith("-01");
    up.forceStatus(503);
    assertThat(gw.get("/err").statusCode()).isEqualTo(503);

    await().atMost(Duration.ofSeconds(10)).until(() -> spans(c).size() >= 2);
    var spans = spans(c);
    assertThat(spans).extracting(OtlpSpan::traceId).doesNotContain(unsampled);
    assertThat(spans).hasSize(2);
    var root = spans.stream().filter(s -> s.name().equals("GET /pb")).findFirst().orElseThrow();
    assertThat(root.traceId()).isEqualTo(rootTrace);
    assertThat(root.parentSpanId()).isEmpty();
    var failed = spans.stream().filter(s -> s.name().equals("GET /err")).findFirst().orElseThrow();
    assertThat(failed.statusCode()).isEqualTo(2L); // STATUS_CODE_ERROR
    assertThat(failed.attributes()).containsEntry("http.status_code", 503L);
  }

  @Test
  void opentelemetryFollowsAMetadataChangeWithoutARouteChange() throws Exception {
    var first = new Collector();
    var second = new Collector();
    var routes = "routes:\n" + route("r1", "/m", "opentelemetry: {sampler: {name: always_on}}");
    gw = Gateways.start(dir, routes + otelMetadata(first, ""));
    gw.get("/m");
    await().atMost(Duration.ofSeconds(10)).until(() -> spans(first).size() == 1);
    gw.reload(
        routes
            + """
            plugin_metadata:
              - id: opentelemetry
                resource: {service.name: gateway-b}
                collector: {address: "%s"}
                batch_span_processor: {inactive_timeout: 0.2}
            """
                .formatted(second.address()));
    gw.get("/m");
    await().atMost(Duration.ofSeconds(10)).until(() -> spans(second).size() == 1);
    assertThat(spans(second).get(0).resource()).containsEntry("service.name", "gateway-b");
    assertThat(spans(first)).hasSize(1);
  }

  @Test
  void collectorsThatNeverAnswerNeverSlowRequests() throws Exception {
    var c = new Collector();
    c.hang = true;
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/slow",
                    """
                    opentelemetry: {sampler: {name: always_on}}
                    zipkin: {endpoint: "http://%s/api/v2/spans", sample_ratio: 1}
                    skywalking: {}
                    """
                        .formatted(c.address()))
                + """
                plugin_metadata:
                  - id: opentelemetry
                    collector: {address: "%s", request_timeout: 60}
                    batch_span_processor: {inactive_timeout: 0.1, max_export_batch_size: 1}
                  - id: skywalking
                    endpoint_addr: http://%s
                    report_interval: 1
                """
                    .formatted(c.address(), c.address()));
    long start = System.nanoTime();
    for (int round = 0; round < 3; round++) {
      assertThat(gw.getAtOnce("/slow", 20)).hasSize(20).containsOnly(200);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    // The three exports were on their way to the collector, which never answered them.
    await().atMost(Duration.ofSeconds(10)).until(() -> c.arrived.get() >= 3);
    assertThat(c.posts).isEmpty();
    assertThat(gw.get("/slow").statusCode()).isEqualTo(200);
  }

  @Test
  void zipkinReportsV2SpansAndPassesMultiB3Upstream() throws Exception {
    var z = new Collector();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/z",
                    """
                    zipkin:
                      endpoint: http://%s/api/v2/spans
                      sample_ratio: 0.00001
                      service_name: edge
                      server_addr: 10.1.2.3
                    """
                        .formatted(z.address())));
    var trace = "463ac35c9f6413ad48485a3953bb6124";
    var clientSpan = "a2fb4a1d1a96d312";
    gw.get("/z?q=1", "x-b3-traceid", trace, "x-b3-spanid", clientSpan, "x-b3-sampled", "1");
    var h = up.lastHeaders();
    assertThat(h.get("x-b3-traceid")).isEqualTo(trace);
    assertThat(h.get("x-b3-sampled")).isEqualTo("1");
    var proxyId = h.get("x-b3-spanid");
    var requestId = h.get("x-b3-parentspanid");
    assertThat(proxyId).hasSize(16).isNotEqualTo(clientSpan);

    await().atMost(Duration.ofSeconds(10)).until(() -> !z.posts.isEmpty());
    var post = z.posts.get(0);
    assertThat(post.path()).isEqualTo("/api/v2/spans");
    assertThat(post.headers().get("content-type")).isEqualTo("application/json");
    var byName = new LinkedHashMap<String, JsonNode>();
    post.json().forEach(s -> byName.put(s.path("name").asText(), s));
    assertThat(byName).containsOnlyKeys("apisix.request", "apisix.proxy", "apisix.response_span");
    var request = byName.get("apisix.request");
    assertThat(request.path("traceId").asText()).isEqualTo(trace);
    assertThat(request.path("id").asText()).isEqualTo(requestId);
    assertThat(request.path("parentId").asText()).isEqualTo(clientSpan);
    assertThat(request.path("kind").asText()).isEqualTo("SERVER");
    assertThat(request.path("localEndpoint").path("serviceName").asText()).isEqualTo("edge");
    assertThat(request.path("localEndpoint").path("ipv4").asText()).isEqualTo("10.1.2.3");
    assertThat(request.path("localEndpoint").path("port").asInt()).isEqualTo(gw.port());
    assertThat(request.path("remoteEndpoint").path("ipv4").asText()).isEqualTo("127.0.0.1");
    assertThat(request.path("tags").path("component").asText()).isEqualTo("apisix");
    assertThat(request.path("tags").path("http.method").asText()).isEqualTo("GET");
    assertThat(request.path("tags").path("http.url").asText()).isEqualTo("/z?q=1");
    assertThat(request.path("tags").path("http.status_code").asText()).isEqualTo("200");
    long t0 = request.path("timestamp").asLong();
    assertThat(t0).isGreaterThan(1_600_000_000_000_000L); // microseconds since the epoch
    var proxy = byName.get("apisix.proxy");
    assertThat(proxy.path("id").asText()).isEqualTo(proxyId);
    assertThat(proxy.path("parentId").asText()).isEqualTo(requestId);
    assertThat(proxy.has("kind")).isFalse();
    var response = byName.get("apisix.response_span");
    assertThat(response.path("parentId").asText()).isEqualTo(requestId);
    assertThat(response.path("timestamp").asLong())
        .isGreaterThanOrEqualTo(proxy.path("timestamp").asLong());
    assertThat(response.path("timestamp").asLong() + response.path("duration").asLong())
        .isLessThanOrEqualTo(t0 + request.path("duration").asLong() + 1);
  }

  @Test
  void zipkinSingleB3SpanVersion1AndUnsampledRequests() throws Exception {
    var z = new Collector();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/z1",
                    """
                    zipkin: {endpoint: "http://%s/api/v2/spans", sample_ratio: 1, span_version: 1}
                    """
                        .formatted(z.address())));
    // Not sampled by the client: goes upstream saying so, and is not reported.
    gw.get("/z1", "b3", "0");
    assertThat(up.lastHeaders().get("x-b3-sampled")).isEqualTo("0");
    assertThat(up.lastHeaders()).doesNotContainKey("b3");
    // Malformed: 400, not proxied.
    int before = up.requests();
    assertThat(gw.get("/z1", "b3", "not-a-context").statusCode()).isEqualTo(400);
    assertThat(up.requests()).isEqualTo(before);
    // Debug: flags passed on in place of sampled.
    var trace = "80f198ee56343ba864fe8b2a57d3eff7";
    gw.get("/z1", "b3", trace + "-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90");
    var h = up.lastHeaders();
    assertThat(h).doesNotContainKey("b3").doesNotContainKey("x-b3-sampled");
    assertThat(h.get("x-b3-flags")).isEqualTo("1");
    assertThat(h.get("x-b3-traceid")).isEqualTo(trace);

    await().atMost(Duration.ofSeconds(10)).until(() -> count(z) >= 5);
    assertThat(count(z)).isEqualTo(5);
    var byName = new LinkedHashMap<String, JsonNode>();
    for (var p : z.posts) {
      p.json().forEach(s -> byName.put(s.path("name").asText(), s));
    }
    assertThat(byName)
        .containsOnlyKeys(
            "apisix.request",
            "apisix.rewrite",
            "apisix.access",
            "apisix.proxy",
            "apisix.body_filter");
    var request = byName.get("apisix.request");
    assertThat(request.path("parentId").asText()).isEqualTo("e457b5a2e4d86bd1");
    assertThat(request.path("debug").asBoolean()).isTrue();
    var requestId = request.path("id").asText();
    for (var child : List.of("apisix.rewrite", "apisix.access", "apisix.proxy")) {
      assertThat(byName.get(child).path("parentId").asText()).as(child).isEqualTo(requestId);
      assertThat(byName.get(child).path("traceId").asText()).as(child).isEqualTo(trace);
    }
    assertThat(byName.get("apisix.body_filter").path("parentId").asText())
        .isEqualTo(byName.get("apisix.proxy").path("id").asText());
    assertThat(h.get("x-b3-spanid")).isEqualTo(byName.get("apisix.proxy").path("id").asText());
  }

  int count(Collector c) throws IOException {
    int n = 0;
    for (var p : c.posts) {
      n += p.json().size();
    }
    return n;
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String unb64(String s) {
    return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
  }

  @Test
  void skywalkingReportsASegmentAndPassesSw8Upstream() throws Exception {
    var oap = new Collector();
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("r1", "/sw/*", "skywalking: {}")
                + """
                plugin_metadata:
                  - id: skywalking
                    service_name: shop
                    service_instance_name: gw-1
                    endpoint_addr: http://%s
                    report_interval: 1
                """
                    .formatted(oap.address()));
    var sw8 =
        String.join(
            "-",
            "1",
            b64("trace-1"),
            b64("segment-1"),
            "3",
            b64("frontend"),
            b64("frontend-1"),
            b64("/checkout"),
            b64("gw:9080"));
    assertThat(gw.get("/sw/cart?x=1", "sw8", sw8).statusCode()).isEqualTo(200);
    var sent = up.lastHeaders().get("sw8").split("-");
    assertThat(sent).hasSize(8);
    assertThat(sent[0]).isEqualTo("1");
    assertThat(unb64(sent[1])).isEqualTo("trace-1");
    var segmentId = unb64(sent[2]);
    assertThat(segmentId).isNotEqualTo("segment-1");
    assertThat(sent[3]).isEqualTo("1");
    assertThat(unb64(sent[4])).isEqualTo("shop");
    assertThat(unb64(sent[5])).isEqualTo("gw-1");
    assertThat(unb64(sent[6])).isEqualTo("/sw/cart");
    assertThat(unb64(sent[7])).isEqualTo("upstream service");
    // A request without a context starts a trace of its own.
    gw.get("/sw/new");
    var second = unb64(up.lastHeaders().get("sw8").split("-")[1]);
    assertThat(second).isNotEqualTo("trace-1");

    await().atMost(Duration.ofSeconds(10)).until(() -> count(oap) >= 2);
    assertThat(oap.posts).allMatch(p -> p.path().equals("/v3/segments"));
    var segments = new ArrayList<JsonNode>();
    for (var p : oap.posts) {
      p.json().forEach(segments::add);
    }
    var seg =
        segments.stream()
            .filter(s -> s.path("traceId").asText().equals("trace-1"))
            .findFirst()
            .orElseThrow();
    assertThat(seg.path("traceSegmentId").asText()).isEqualTo(segmentId);
    assertThat(seg.path("service").asText()).isEqualTo("shop");
    assertThat(seg.path("serviceInstance").asText()).isEqualTo("gw-1");
    var spans = new LinkedHashMap<String, JsonNode>();
    seg.path("spans").forEach(s -> spans.put(s.path("spanType").asText(), s));
    var entry = spans.get("Entry");
    assertThat(entry.path("spanId").asInt()).isZero();
    assertThat(entry.path("parentSpanId").asInt()).isEqualTo(-1);
    assertThat(entry.path("operationName").asText()).isEqualTo("/sw/cart");
    assertThat(entry.path("componentId").asInt()).isEqualTo(6000);
    assertThat(entry.path("spanLayer").asText()).isEqualTo("Http");
    assertThat(entry.path("isError").asBoolean()).isFalse();
    assertThat(entry.path("tags").toString())
        .contains("{\"key\":\"http.method\",\"value\":\"GET\"}")
        .contains("{\"key\":\"http.status\",\"value\":\"200\"}")
        .contains("/sw/cart?x=1");
    var ref = entry.path("refs").get(0);
    assertThat(ref.path("refType").asText()).isEqualTo("CrossProcess");
    assertThat(ref.path("traceId").asText()).isEqualTo("trace-1");
    assertThat(ref.path("parentTraceSegmentId").asText()).isEqualTo("segment-1");
    assertThat(ref.path("parentSpanId").asInt()).isEqualTo(3);
    assertThat(ref.path("parentService").asText()).isEqualTo("frontend");
    assertThat(ref.path("parentEndpoint").asText()).isEqualTo("/checkout");
    assertThat(ref.path("networkAddressUsedAtPeer").asText()).isEqualTo("gw:9080");
    var exit = spans.get("Exit");
    assertThat(exit.path("spanId").asInt()).isEqualTo(1);
    assertThat(exit.path("parentSpanId").asInt()).isZero();
    assertThat(exit.path("peer").asText()).isEqualTo("upstream service");
    assertThat(exit.path("startTime").asLong())
        .isGreaterThanOrEqualTo(entry.path("startTime").asLong());
    assertThat(exit.path("endTime").asLong()).isLessThanOrEqualTo(entry.path("endTime").asLong());
  }
}
