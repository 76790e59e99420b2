package io.archway.e2e.chaos;

import static io.archway.e2e.chaos.Outages.logged;
import static io.archway.e2e.chaos.Outages.metric;
import static io.archway.e2e.chaos.Outages.queued;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.KafkaBroker;
import io.archway.e2e.Backends.HttpEcho;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 7, dependency outages (docs/chaos.md): the Kafka broker goes away under load. A
 * real KRaft broker (from the Kafka jars, a process of its own, one for the class since it is slow
 * to start), a real etcd, the dataplane's jar and a real HTTP backend. HTTP requests on a route
 * with {@code kafka-logger} must not fail: the logger's entries wait in its bounded queue, and what
 * cannot be sent is dropped and counted. Pub-sub sessions on a Kafka route get a clean answer to
 * every command (an {@code ErrorResp} once the broker does not answer within the dataplane's broker
 * timeout, 5 s), never silence; both work again once the broker is back.
 */
class KafkaOutageChaosE2E {

  /** The dataplane's broker timeout (pub-sub's default) plus room for a loaded machine. */
  private static final Duration PUBSUB_TIMEOUT = Duration.ofSeconds(15);

  @TempDir static Path dir;

  static KafkaBroker kafka;
  static HttpEcho backend;
  static EtcdDataplane stack;

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaBroker.start();
    kafka.createTopic("events", 1);
    kafka.createTopic("access", 1);
    try (var producer =
        new KafkaProducer<>(
            Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>("events", 0, null, "one".getBytes())).get();
    }
    backend = new HttpEcho("a");
    stack = EtcdDataplane.start(dir);
    stack.put(
        "routes/log",
        "{\"uri\":\"/log/*\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:"
            + backend.port()
            + "\":1}},\"plugins\":{\"kafka-logger\":{\"brokers\":[{\"host\":\"127.0.0.1\","
            + "\"port\":"
            + kafka.port()
            + "}],\"kafka_topic\":\"access\",\"batch_max_size\":50,\"inactive_timeout\":1,"
            + "\"timeout\":1}}}");
    stack.put(
        "routes/kafka",
        "{\"uri\":\"/kafka\",\"upstream\":{\"type\":\"none\",\"scheme\":\"kafka\",\"nodes\":{"
            + "\"127.0.0.1:"
            + kafka.port()
            + "\":1}}}");
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(() -> stack.get("/log/x").statusCode() == 200);
  }

  @AfterAll
  static void stop() throws Exception {
    if (stack != null) {
      stack.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private static PubSubLoad pubsub() {
    return new PubSubLoad(
        URI.create("ws://127.0.0.1:" + stack.httpPort() + "/kafka"),
        "events",
        2,
        Duration.ofMillis(50),
        PUBSUB_TIMEOUT);
  }

  @Test
  void aDeadBrokerFailsNoHttpRequestAndPubSubGetsCleanErrors() throws Exception {
    // Before the fault: both paths work. A request each poll: the first entries may be dropped
    // while the broker creates the topic (the logger's timeout is 1 s), and only new ones are sent.
    await()
        .atMost(EtcdDataplane.WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              stack.get("/log/warm");
              return metric(stack, logged("kafka-logger", "sent")) > 0;
            });
    try (var warm = pubsub().start()) {
      await().atMost(EtcdDataplane.WAIT).until(() -> warm.result().requests() > 10);
      assertThat(warm.stop().failed()).as("pub-sub before the fault").isZero();
    }

    long seconds = EtcdDataplane.seconds();
    long droppedBefore = metric(stack, logged("kafka-logger", "dropped"));
    long rssBefore = Outages.rssKiB(stack.pid());
    var http = Outages.load(stack, "/log/x", 8).start();
    var ws = pubsub().start();
    Load.Result httpResult;
    Load.Result wsResult;
    long maxQueued;
    try {
      kafka.stop();
      maxQueued = Outages.maxDuring(stack, seconds, queued("kafka-logger"))[0];
    } finally {
      httpResult = http.stop();
      wsResult = ws.stop();
    }
    long dropped = metric(stack, logged("kafka-logger", "dropped")) - droppedBefore;
    long rssDuring = Outages.rssKiB(stack.pid());
    ChaosReport.add("Kafka down: HTTP on a route with kafka-logger", seconds, httpResult, null);

    // Recovery: the broker back, pub-sub answers again and the logger sends again.
    long sentBefore = metric(stack, logged("kafka-logger", "sent"));
    kafka.restart();
    Duration recovery;
    try (var again = Outages.load(stack, "/log/y", 2).start()) {
      recovery =
          Outages.until(
              () -> {
                try (var c = pubsub().start()) {
                  await().atMost(PUBSUB_TIMEOUT).until(() -> c.result().requests() >= 4);
                  var r = c.stop();
                  return r.failed() == 0
                      && metric(stack, logged("kafka-logger", "sent")) > sentBefore;
                }
              });
      assertThat(again.stop().failed()).as("HTTP after the fault").isZero();
    }
    ChaosReport.add("Kafka down: pub-sub sessions (clean errors)", seconds, wsResult, recovery);
    System.out.printf(
        "kafka down: http %s; pub-sub %s; kafka-logger dropped %d, queued at most %d;"
            + " dataplane RSS %d KiB before, %d KiB at the end of the fault%n",
        httpResult, wsResult, dropped, maxQueued, rssBefore, rssDuring);

    assertThat(httpResult.failed()).as("failed HTTP requests: %s", httpResult).isZero();
    // Pub-sub: every command answered; an ErrorResp (STATUS) while the broker is away, or at
    // worst a session closed by the gateway (RESET) — never a command left without an answer.
    assertThat(wsResult.failures().keySet())
        .as("pub-sub: %s", wsResult)
        .doesNotContain(Load.Kind.TIMEOUT, Load.Kind.ERROR, Load.Kind.BODY);
    assertThat(wsResult.failures()).as("pub-sub: %s", wsResult).containsKey(Load.Kind.STATUS);
    assertThat(wsResult.examples())
        .filteredOn(f -> f.kind() == Load.Kind.STATUS)
        .allSatisfy(f -> assertThat(f.body()).isNotBlank());
    // kafka-logger: entries that could not go were dropped and counted; the queue stayed within
    // its bound (10,000 entries for batches of 50).
    assertThat(dropped).as("kafka-logger entries dropped and counted").isPositive();
    assertThat(maxQueued).isLessThanOrEqualTo(10_000);
  }
}
