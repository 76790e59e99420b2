package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.KafkaBroker;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.ModelJson;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kafka-logger against a real KRaft broker (and a dead one), http-logger, the seed's example. */
class LoggersIT {

  static KafkaBroker kafka;
  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeAll
  static void broker() throws Exception {
    kafka = KafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() throws Exception {
    kafka.close();
  }

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  String route(String plugins) {
    return """
        routes:
          - id: r1
            uri: /*
            upstream:
              nodes:
                "%s": 1
            plugins:
        %s
        """
        .formatted(up.node(), plugins.indent(6).stripTrailing());
  }

  List<JsonNode> consume(String topic, int atLeast) throws Exception {
    var out = new ArrayList<JsonNode>();
    try (var consumer =
        new KafkaConsumer<>(
            Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "t-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest"),
            new StringDeserializer(),
            new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      // Each poll waits up to 0.2 s for records itself.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInSameThread()
          .pollInterval(Duration.ZERO)
          .until(
              () -> {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                  out.add(ModelJson.mapper().readTree(r.value()));
                }
                return out.size() >= atLeast;
              });
    }
    return out;
  }

  @Test
  void kafkaLoggerProducesOneEntryPerRequest() throws Exception {
    gw =
        Gateways.start(
            dir,
            route(
                "kafka-logger: {brokers: [{host: 127.0.0.1, port: %d}], kafka_topic: access, batch_max_size: 2, inactive_timeout: 0.2}"
                    .formatted(kafka.port())));
    for (int i = 0; i < 5; i++) {
      assertThat(gw.get("/a?i=" + i).statusCode()).isEqualTo(200);
    }
    var entries = consume("access", 5);
    assertThat(entries).hasSize(5);
    assertThat(entries.get(0).path("route_id").asText()).isEqualTo("r1");
    assertThat(entries.get(0).path("response").path("status").asInt()).isEqualTo(200);
    assertThat(entries.get(0).path("request").path("method").asText()).isEqualTo("GET");
    assertThat(entries.stream().map(e -> e.path("request").path("querystring").path("i").asText()))
        .containsExactlyInAnyOrder("0", "1", "2", "3", "4");
    await()
        .until(
            () ->
                gw.status("/metrics")
                    .contains(
                        "archway_plugin_log_entries_total{plugin=\"kafka-logger\",result=\"sent\"} 5"));
  }

  @Test
  void aDeadBrokerNeverFailsRequestsAndItsEntriesAreCountedAsDropped() throws Exception {
    try (var dead = KafkaBroker.start()) {
      gw =
          Gateways.start(
              dir,
              route(
                  "kafka-logger: {brokers: [{host: 127.0.0.1, port: %d}], kafka_topic: lost, batch_max_size: 1, timeout: 0.5}"
                      .formatted(dead.port())));
      dead.stop();
      assertThat(gw.getAtOnce("/a", 20)).hasSize(20).containsOnly(200);
      var metrics = gw.dataplane().servers().compiler().pluginServices().metrics();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(metrics.loggerDropped("kafka-logger")).isEqualTo(20));
      assertThat(metrics.loggerSent("kafka-logger")).isZero();
    }
  }

  @Test
  void httpLoggerPostsBatchesAndCountsWhatThePeerRefuses() throws Exception {
    var bodies = new CopyOnWriteArrayList<String>();
    var refuse = new AtomicInteger();
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/log",
        ex -> {
          bodies.add(new String(ex.getRequestBody().readAllBytes()));
          bodies.add("auth=" + ex.getRequestHeaders().getFirst("Authorization"));
          ex.sendResponseHeaders(refuse.get() > 0 ? 500 : 200, -1);
          ex.close();
        });
    server.start();
    try {
      gw =
          Gateways.start(
              dir,
              route(
                  "http-logger: {uri: \"http://127.0.0.1:%d/log\", auth_header: token, batch_max_size: 3, inactive_timeout: 0.2, max_retry_count: 1, retry_delay: 0.1}"
                      .formatted(server.getAddress().getPort())));
      for (int i = 0; i < 3; i++) {
        gw.get("/a");
      }
      await().until(() -> bodies.size() >= 2);
      var batch = ModelJson.mapper().readTree(bodies.get(0));
      assertThat(batch.isArray()).isTrue();
      assertThat(batch).hasSize(3);
      assertThat(bodies.get(1)).isEqualTo("auth=token");
      refuse.set(1);
      gw.get("/a");
      var metrics = gw.dataplane().servers().compiler().pluginServices().metrics();
      await().until(() -> metrics.loggerDropped("http-logger") == 1);
      assertThat(metrics.loggerSent("http-logger")).isEqualTo(3);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void theSeedExampleRuns() throws Exception {
    var example =
        Files.readString(Path.of("../examples/pluginflow.yaml"))
            .replace("port: 9092", "port: " + kafka.port())
            .replace("127.0.0.1:8000", up.node())
            .replace("#END\n", "");
    gw = Gateways.start(dir, example);
    // A consumer's request passes key-auth and is logged to Kafka.
    var jack =
        gw.client()
            .send(
                HttpRequest.newBuilder(URI.create(gw.url("/orders")))
                    .header("apikey", "jack-key")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(jack.statusCode()).isEqualTo(200);
    var logged = consume("access-log", 1);
    assertThat(logged).hasSize(1);
    assertThat(logged.get(0).path("consumer").path("username").asText()).isEqualTo("jack");
    // Anonymous requests are not refused but throttled: of six at once, limit-req lets one
    // through, delays two (burst 2) to fit one a second, and refuses three.
    var codes = gw.getAtOnce("/orders", 6);
    assertThat(codes).containsOnly(200, 429);
    assertThat(codes.stream().filter(c -> c == 200).count()).isEqualTo(3);
  }
}
