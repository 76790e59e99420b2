package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.UdpServer;
import io.archway.model.ModelJson;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The observability loggers through a real dataplane and a real upstream, each against a real peer
 * on a loopback port: TCP and UDP listeners for tcp-logger, udp-logger, syslog, datadog (DogStatsD)
 * and error-log-logger, a file for file-logger. Loki, Elasticsearch, ClickHouse and SkyWalking's
 * OAP cannot run on these machines (no container images, no packages), so their push endpoints are
 * an HTTP server written here that records what it is sent and checks it has the shape each
 * documents (Loki's push JSON, the bulk API's NDJSON, ClickHouse's {@code INSERT ... FORMAT
 * JSONEachRow} body and headers, SkyWalking's {@code /v3/logs} JSON).
 */
class ObservabilityLoggersIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;
  final List<AutoCloseable> peers = new CopyOnWriteArrayList<>();

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
    for (var p : peers) {
      p.close();
    }
  }

  String route(String plugins) {
    return route(plugins, "");
  }

  String route(String plugins, String more) {
    return """
        routes:
          - id: r1
            uri: /*
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        %s
        """
        .formatted(up.node(), plugins.indent(6).stripTrailing(), more);
  }

  static JsonNode json(String s) throws IOException {
    return ModelJson.mapper().readTree(s);
  }

  /**
   * A TCP server: the lines received on any connection as they come, and what each connection sent,
   * whole, once it closed.
   */
  final class TcpPeer implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final List<String> lines = new CopyOnWriteArrayList<>();
    final List<String> received = new CopyOnWriteArrayList<>();

    TcpPeer() throws IOException {
      Thread.ofPlatform().daemon().start(this::accept);
      peers.add(this);
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          var s = server.accept();
          Thread.ofPlatform().daemon().start(() -> read(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private void read(java.net.Socket s) {
      var all = new StringBuilder();
      try (s;
          var r =
              new java.io.BufferedReader(
                  new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          lines.add(l);
          all.append(l);
        }
      } catch (IOException e) {
        // the logger closed
      }
      received.add(all.toString());
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /** A UDP server: every datagram received. */
  final class UdpPeer implements AutoCloseable {
    final List<String> received = new CopyOnWriteArrayList<>();
    private final UdpServer server = UdpServer.collecting(received);

    UdpPeer() throws IOException {
      peers.add(this);
    }

    int port() {
      return server.port();
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /** One request an {@link HttpPeer} received. */
  record Received(String method, String path, Map<String, List<String>> headers, String body) {
    String header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> e.getValue().get(0))
          .findFirst()
          .orElse(null);
    }
  }

  /** An HTTP server standing in for Loki, Elasticsearch, ClickHouse or SkyWalking's OAP. */
  final class HttpPeer implements AutoCloseable {
    final HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    final List<Received> received = new CopyOnWriteArrayList<>();
    final AtomicInteger failures = new AtomicInteger();
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean hang;

    HttpPeer() throws IOException {
      server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
      server.createContext(
          "/",
          ex -> {
            var body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (hang) {
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
              ex.sendResponseHeaders(503, -1);
            } else {
              received.add(
                  new Received(
                      ex.getRequestMethod(),
                      ex.getRequestURI().toString(),
                      Map.copyOf(ex.getRequestHeaders()),
                      body));
              var ok = "{}".getBytes(StandardCharsets.UTF_8);
              ex.sendResponseHeaders(200, ok.length);
              ex.getResponseBody().write(ok);
            }
            ex.close();
          });
      server.start();
      peers.add(this);
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      release.countDown();
      server.stop(0);
    }
  }

  long sent(String plugin) {
    return gw.dataplane().servers().compiler().pluginServices().metrics().loggerSent(plugin);
  }

  long dropped(String plugin) {
    return gw.dataplane().servers().compiler().pluginServices().metrics().loggerDropped(plugin);
  }

  @Test
  void tcpLoggerSendsFullBatchesAsArraysAndAPartialOneAfterTheInactiveTimeout() throws Exception {
    var peer = new TcpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                "tcp-logger: {host: 127.0.0.1, port: %d, batch_max_size: 2, inactive_timeout: 2}"
                    .formatted(peer.port())));
    for (int i = 0; i < 5; i++) {
      assertThat(gw.get("/t?i=" + i).statusCode()).isEqualTo(200);
    }
    // Two full batches at once, then the fifth entry alone once the batcher was idle long enough.
    await().atMost(Duration.ofSeconds(10)).until(() -> peer.received.size() == 3);
    var batches = peer.received.stream().map(s -> uncheckedJson(s)).toList();
    assertThat(batches.stream().filter(JsonNode::isArray)).hasSize(2).allMatch(b -> b.size() == 2);
    var single = batches.stream().filter(JsonNode::isObject).findFirst().orElseThrow();
    assertThat(single.path("route_id").asText()).isEqualTo("r1");
    assertThat(single.path("response").path("status").asInt()).isEqualTo(200);
    assertThat(single.path("request").path("method").asText()).isEqualTo("GET");
    assertThat(sent("tcp-logger")).isEqualTo(5);
  }

  static JsonNode uncheckedJson(String s) {
    try {
      return json(s);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + s, e);
    }
  }

  @Test
  void tcpLoggerRetriesUntilThePeerIsBack() throws Exception {
    int port = Ports.free();
    gw =
        Gateways.start(
            dir,
            route(
                "tcp-logger: {host: 127.0.0.1, port: %d, batch_max_size: 1, max_retry_count: 50, retry_delay: 0.1}"
                    .formatted(port)));
    assertThat(gw.get("/retry").statusCode()).isEqualTo(200);
    // The peer is down for the first attempts, then comes up on the same port.
    var server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    peers.add(server);
    try (var s = server.accept()) {
      var entry = json(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      assertThat(entry.path("request").path("uri").asText()).isEqualTo("/retry");
    }
    await().until(() -> sent("tcp-logger") == 1);
    assertThat(dropped("tcp-logger")).isZero();
  }

  @Test
  void udpLoggerSendsOneDatagramPerBatch() throws Exception {
    var peer = new UdpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                "udp-logger: {host: 127.0.0.1, port: %d, batch_max_size: 1, log_format: {uri: $uri, code: $status, fixed: 7}}"
                    .formatted(peer.port())));
    gw.get("/u1");
    gw.get("/u2");
    await().until(() -> peer.received.size() == 2);
    var first = json(peer.received.get(0));
    assertThat(first.path("uri").asText()).isIn("/u1", "/u2");
    assertThat(first.path("code").asText()).isEqualTo("200");
    assertThat(first.path("fixed").asInt()).isEqualTo(7);
    assertThat(first.has("request")).isFalse();
  }

  @Test
  void syslogSendsRfc5424LinesOverTcpAndUdp() throws Exception {
    var tcp = new TcpPeer();
    var udp = new UdpPeer();
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: t
                uri: /tcp
                upstream: {nodes: {"%1$s": 1}}
                plugins:
                  syslog: {host: 127.0.0.1, port: %2$d, batch_max_size: 1}
              - id: u
                uri: /udp
                upstream: {nodes: {"%1$s": 1}}
                plugins:
                  syslog: {host: 127.0.0.1, port: %3$d, sock_type: udp, batch_max_size: 1}
            """
                .formatted(up.node(), tcp.port(), udp.port()));
    gw.get("/tcp");
    gw.get("/udp");
    await().until(() -> tcp.lines.size() == 1 && udp.received.size() == 1);
    for (var line : List.of(tcp.lines.get(0), udp.received.get(0))) {
      assertThat(line).matches("<14>1 \\S+ \\S+ archway - - - \\{.*\\}");
    }
    var entry = json(tcp.lines.get(0).substring(tcp.lines.get(0).indexOf('{')));
    assertThat(entry.path("route_id").asText()).isEqualTo("t");
    assertThat(
            json(udp.received.get(0).substring(udp.received.get(0).indexOf('{')))
                .path("route_id")
                .asText())
        .isEqualTo("u");
  }

  @Test
  void lokiGetsItsPushJsonWithLabelsResolvedAndRetriesWhenItFails() throws Exception {
    var loki = new HttpPeer();
    loki.failures.set(2);
    gw =
        Gateways.start(
            dir,
            route(
                """
                loki-logger:
                  endpoint_addrs: ["%s"]
                  tenant_id: tenant-1
                  log_labels: {job: gateway, path: $uri}
                  batch_max_size: 3
                  inactive_timeout: 30
                  max_retry_count: 3
                  retry_delay: 0.1
                """
                    .formatted(loki.url())));
    gw.get("/a");
    gw.get("/a");
    gw.get("/b");
    await().until(() -> loki.received.size() == 1);
    var push = loki.received.get(0);
    assertThat(push.path()).isEqualTo("/loki/api/v1/push");
    assertThat(push.header("X-Scope-OrgID")).isEqualTo("tenant-1");
    assertThat(push.header("Content-Type")).isEqualTo("application/json");
    var streams = json(push.body()).path("streams");
    assertThat(streams).hasSize(2);
    var a = streams.get(0);
    assertThat(a.path("stream").path("job").asText()).isEqualTo("gateway");
    assertThat(a.path("stream").path("path").asText()).isEqualTo("/a");
    assertThat(a.path("values")).hasSize(2);
    var value = a.path("values").get(0);
    assertThat(value.get(0).asText()).matches("\\d{19}");
    assertThat(json(value.get(1).asText()).path("route_id").asText()).isEqualTo("r1");
    assertThat(streams.get(1).path("stream").path("path").asText()).isEqualTo("/b");
    assertThat(sent("loki-logger")).isEqualTo(3);
    assertThat(dropped("loki-logger")).isZero();
  }

  @Test
  void elasticsearchGetsBulkNdjson() throws Exception {
    var es = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                elasticsearch-logger:
                  endpoint_addrs: ["%s"]
                  field: {index: services}
                  auth: {username: elastic, password: secret}
                  batch_max_size: 2
                """
                    .formatted(es.url())));
    gw.get("/e1");
    gw.get("/e2");
    await().until(() -> es.received.size() == 1);
    var bulk = es.received.get(0);
    assertThat(bulk.path()).isEqualTo("/_bulk");
    assertThat(bulk.header("Content-Type")).isEqualTo("application/x-ndjson");
    assertThat(bulk.header("Authorization"))
        .isEqualTo(
            "Basic "
                + java.util.Base64.getEncoder()
                    .encodeToString("elastic:secret".getBytes(StandardCharsets.UTF_8)));
    var lines = bulk.body().split("\n");
    assertThat(bulk.body()).endsWith("\n");
    assertThat(lines).hasSize(4);
    assertThat(json(lines[0]).path("create").path("_index").asText()).isEqualTo("services");
    assertThat(json(lines[0]).path("create").has("_type")).isFalse();
    assertThat(json(lines[1]).path("request").path("uri").asText()).isIn("/e1", "/e2");
    assertThat(json(lines[3]).path("route_id").asText()).isEqualTo("r1");
  }

  @Test
  void clickhouseGetsAnInsertInJsonEachRow() throws Exception {
    var ch = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                """
                clickhouse-logger:
                  endpoint_addrs: ["%s/"]
                  user: default
                  password: pw
                  database: gw
                  logtable: access
                  batch_max_size: 2
                  log_format: {host: $host, client_ip: $remote_addr, status: $status}
                """
                    .formatted(ch.url())));
    gw.get("/c1");
    gw.get("/c2");
    await().until(() -> ch.received.size() == 1);
    var insert = ch.received.get(0);
    assertThat(insert.method()).isEqualTo("POST");
    assertThat(insert.header("X-ClickHouse-User")).isEqualTo("default");
    assertThat(insert.header("X-ClickHouse-Key")).isEqualTo("pw");
    assertThat(insert.header("X-ClickHouse-Database")).isEqualTo("gw");
    var prefix = "INSERT INTO access FORMAT JSONEachRow ";
    assertThat(insert.body()).startsWith(prefix);
    var rows = insert.body().substring(prefix.length()).split("} \\{");
    assertThat(rows).hasSize(2);
    var row =
        json(insert.body().substring(prefix.length(), prefix.length() + rows[0].length() + 1));
    assertThat(row.path("client_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(row.path("status").asText()).isEqualTo("200");
  }

  @Test
  void skywalkingGetsItsLogJsonWithTheTraceContext() throws Exception {
    var oap = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                "skywalking-logger: {endpoint_addr: \"%s\", service_name: shop, batch_max_size: 1}"
                    .formatted(oap.url())));
    var b64 = java.util.Base64.getUrlEncoder().withoutPadding();
    var sw8 =
        String.join(
            "-",
            "1",
            b64.encodeToString("trace-1".getBytes(StandardCharsets.UTF_8)),
            b64.encodeToString("segment-1".getBytes(StandardCharsets.UTF_8)),
            "3",
            "c2VydmljZQ",
            "aW5zdGFuY2U",
            "L2FwaQ",
            "MTI3LjAuMC4xOjgwODA");
    gw.get("/sw", "sw8", sw8);
    await().until(() -> oap.received.size() == 1);
    var post = oap.received.get(0);
    assertThat(post.path()).isEqualTo("/v3/logs");
    var log = json(post.body()).get(0);
    assertThat(log.path("service").asText()).isEqualTo("shop");
    assertThat(log.path("serviceInstance").asText()).isEqualTo("APISIX Instance Name");
    assertThat(log.path("endpoint").asText()).isEqualTo("/sw");
    assertThat(log.path("traceContext").path("traceId").asText()).isEqualTo("trace-1");
    assertThat(log.path("traceContext").path("traceSegmentId").asText()).isEqualTo("segment-1");
    assertThat(log.path("traceContext").path("spanId").asInt()).isEqualTo(3);
    var entry = json(log.path("body").path("json").path("json").asText());
    assertThat(entry.path("route_id").asText()).isEqualTo("r1");
  }

  @Test
  void aHangingPeerNeverSlowsOrFailsRequests() throws Exception {
    var loki = new HttpPeer();
    loki.hang = true;
    gw =
        Gateways.start(
            dir,
            route(
                "loki-logger: {endpoint_addrs: [\"%s\"], batch_max_size: 1, timeout: 60000}"
                    .formatted(loki.url())));
    long start = System.nanoTime();
    assertThat(gw.getAtOnce("/slow", 30)).hasSize(30).containsOnly(200);
    // The peer holds every push for as long as the test runs; the requests did not wait for it.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(loki.received).isEmpty();
  }

  @Test
  void aDeadTcpPeerCostsDroppedEntriesNeverFailedRequests() throws Exception {
    int port = Ports.free();
    gw =
        Gateways.start(
            dir,
            route(
                "tcp-logger: {host: 127.0.0.1, port: %d, batch_max_size: 5, max_retry_count: 1, retry_delay: 0.1}"
                    .formatted(port)));
    assertThat(gw.getAtOnce("/dead", 20)).hasSize(20).containsOnly(200);
    await().until(() -> dropped("tcp-logger") == 20);
    assertThat(sent("tcp-logger")).isZero();
  }

  @Test
  void datadogSendsDogStatsdMetricsToTheAgentInItsMetadata() throws Exception {
    var agent = new UdpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                "datadog: {batch_max_size: 1}",
                """
                plugin_metadata:
                  - id: datadog
                    host: 127.0.0.1
                    port: %d
                    namespace: gw
                    constant_tags: ["env:test"]
                """
                    .formatted(agent.port())));
    gw.get("/dd");
    await().until(() -> agent.received.size() == 5);
    var names = agent.received.stream().map(l -> l.substring(0, l.indexOf(':'))).toList();
    assertThat(names)
        .containsExactly(
            "gw.request.counter",
            "gw.request.latency",
            "gw.apisix.latency",
            "gw.ingress.size",
            "gw.egress.size");
    assertThat(agent.received.get(0))
        .startsWith("gw.request.counter:1|c|#env:test,route_name:r1,")
        .contains("response_status:200", "scheme:http", "balancer_ip:127.0.0.1");
    assertThat(agent.received.get(1)).matches("gw\\.request\\.latency:[0-9.]+\\|h\\|#.*");
  }

  @Test
  void fileLoggerWritesLinesAndFollowsTheFileWhenItIsRotatedAway() throws Exception {
    var log = dir.resolve("logs/access.log");
    gw =
        Gateways.start(
            dir, route("file-logger: {path: \"%s\", include_resp_body: true}".formatted(log)));
    gw.get("/f1");
    gw.get("/f2");
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 2);
    var first = json(Files.readAllLines(log).get(0));
    assertThat(first.path("request").path("uri").asText()).isEqualTo("/f1");
    assertThat(first.path("response").path("body").asText()).isEqualTo("up");
    // logrotate moves the file away; the next entries go to a new file at the path.
    var rotated = dir.resolve("logs/access.log.1");
    Files.move(log, rotated);
    gw.get("/f3");
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
    assertThat(json(Files.readAllLines(log).get(0)).path("request").path("uri").asText())
        .isEqualTo("/f3");
    assertThat(Files.readAllLines(rotated)).hasSize(2);
    // And deleted: written again too.
    Files.delete(log);
    gw.get("/f4");
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
  }

  @Test
  void theMetadataLogFormatAppliesUntilTheRouteHasItsOwn() throws Exception {
    var log = dir.resolve("meta.log");
    var metadata =
        """
        plugin_metadata:
          - id: file-logger
            log_format: {host: $host, addr: "$remote_addr:$remote_port", missing: $http_x_none}
        """;
    gw = Gateways.start(dir, route("file-logger: {path: \"%s\"}".formatted(log), metadata));
    gw.get("/m");
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
    var e = json(Files.readAllLines(log).get(0));
    assertThat(e.path("host").asText()).isEqualTo("127.0.0.1");
    assertThat(e.path("addr").asText()).matches("127\\.0\\.0\\.1:\\d+");
    assertThat(e.has("missing")).isFalse();
    assertThat(e.has("request")).isFalse();
    gw.reload(route("file-logger: {path: \"%s\", log_format: {u: $uri}}".formatted(log), metadata));
    gw.get("/own");
    await().until(() -> Files.readAllLines(log).size() == 2);
    assertThat(json(Files.readAllLines(log).get(1)).toString()).isEqualTo("{\"u\":\"/own\"}");
  }

  @Test
  void metadataWithAnUnknownFieldIsNotApplied() throws Exception {
    var log = dir.resolve("typo.log");
    gw =
        Gateways.start(
            dir,
            route(
                "file-logger: {path: \"%s\"}".formatted(log),
                """
                plugin_metadata:
                  - id: file-logger
                    log_fromat: {u: $uri}
                """));
    gw.get("/typo");
    await().until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
    assertThat(json(Files.readAllLines(log).get(0)).path("request").path("uri").asText())
        .isEqualTo("/typo");
    assertThat(gw.dataplane().servers().compiler().pluginServices().metadata("file-logger"))
        .isNull();
  }

  @Test
  void includeReqBodyLogsTheBodyThatStreamedUpstream() throws Exception {
    var peer = new TcpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                "tcp-logger: {host: 127.0.0.1, port: %d, batch_max_size: 1, include_req_body: true, include_req_body_expr: [[arg_log, ==, \"yes\"]]}"
                    .formatted(peer.port())));
    assertThat(post("/echo?log=yes", "hello body").body()).isEqualTo("hello body");
    assertThat(post("/echo?log=no", "not this one").body()).isEqualTo("not this one");
    await().until(() -> peer.received.size() == 2);
    var entries = peer.received.stream().map(ObservabilityLoggersIT::uncheckedJson).toList();
    var logged =
        entries.stream()
            .filter(e -> e.path("request").path("querystring").path("log").asText().equals("yes"))
            .findFirst()
            .orElseThrow();
    assertThat(logged.path("request").path("body").asText()).isEqualTo("hello body");
    assertThat(entries)
        .filteredOn(e -> e.path("request").path("querystring").path("log").asText().equals("no"))
        .singleElement()
        .satisfies(e -> assertThat(e.path("request").has("body")).isFalse());
  }

  @Test
  void httpLoggerUsesTheSameEntryOptions() throws Exception {
    var peer = new HttpPeer();
    gw =
        Gateways.start(
            dir,
            route(
                "http-logger: {uri: \"%s/log\", batch_max_size: 1, log_format: {u: $uri}, include_resp_body: true}"
                    .formatted(peer.url())));
    gw.get("/h");
    await().until(() -> peer.received.size() == 1);
    assertThat(peer.received.get(0).body()).isEqualTo("[{\"u\":\"/h\"}]");
  }

  @Test
  void errorLogLoggerShipsTheGatewaysWarningsOverTcp() throws Exception {
    var peer = new TcpPeer();
    var metadata =
        """
        plugin_metadata:
          - id: error-log-logger
            tcp: {host: 127.0.0.1, port: %d}
            inactive_timeout: 0.2
        """
            .formatted(peer.port());
    gw = Gateways.start(dir, route("echo: {body: hi}", metadata));
    // A route that does not compile is logged at WARN by the dataplane: that line is shipped.
    gw.reload(
        """
        routes:
          - id: broken
            uri: /broken
            plugins:
              limit-count: {count: -1}
            upstream: {nodes: {"127.0.0.1:1": 1}}
        """
            + metadata);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> peer.lines.stream().anyMatch(l -> l.contains("[WARN]") && l.contains("broken")));
  }

  @Test
  void errorLogLoggerRefusesTargetsItDoesNotShipTo() throws Exception {
    var plugin = new ErrorLogLoggerPlugin();
    var services = new io.archway.dataplane.plugin.PluginServices();
    try {
      var meta =
          (com.fasterxml.jackson.databind.node.ObjectNode) json("{\"kafka\":{\"brokers\":[]}}");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> plugin.metadata(meta, services))
          .hasMessageContaining("kafka: not supported");
    } finally {
      services.close();
    }
  }

  @Test
  void prometheusMetadataAddsApisixGatewayMetricNames() throws Exception {
    var yaml =
        """
        routes:
          - id: r1
            uri: /*
            plugins: {prometheus: {}}
            upstream:
              nodes: {"%s": 1}
              checks: {active: {http_path: /, healthy: {interval: 1}, unhealthy: {interval: 1}}}
        """
            .formatted(up.node());
    gw = Gateways.start(dir, yaml);
    gw.get("/p");
    assertThat(gw.status("/metrics"))
        .contains("apisix_http_status{code=\"200\",route=\"r1\"")
        .doesNotContain("apisix_http_requests_total");
    gw.reload(
        yaml
            + """
            plugin_metadata:
              - id: prometheus
                apisix_metrics: true
            """);
    await()
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .contains(
                        "apisix_etcd_reachable 1",
                        "apisix_node_info{hostname=",
                        "apisix_nginx_http_current_connections{state=\"active\"} ",
                        "apisix_upstream_status{name=\"/apisix/",
                        "\",ip=\"127.0.0.1\",port=\"" + up.node().split(":")[1] + "\"} 1")
                    .containsPattern("apisix_http_requests_total [1-9]"));
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return gw.client()
        .send(
            HttpRequest.newBuilder(URI.create(gw.url(path)))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }
}
