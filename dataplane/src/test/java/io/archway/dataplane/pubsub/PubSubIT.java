package io.archway.dataplane.pubsub;

import static io.archway.dataplane.testing.PubSubClient.routes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.pubsub.proto.CmdEmpty;
import io.archway.dataplane.pubsub.proto.CmdKafkaFetch;
import io.archway.dataplane.pubsub.proto.KafkaMessage;
import io.archway.dataplane.pubsub.proto.PubSubReq;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.KafkaBroker;
import io.archway.dataplane.testing.PubSubClient;
import io.archway.dataplane.testing.Stalls;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka pub-sub through the gateway against a real KRaft broker: a real WebSocket client speaking
 * APISIX's pubsub.proto, messages produced with kafka-clients and compared byte for byte, and every
 * bad input the session must survive.
 */
class PubSubIT {

  static KafkaBroker kafka;
  // What was produced to partition 0 of "events", in order: key, value, and where it landed.
  static final List<byte[][]> produced = new ArrayList<>();
  static final List<RecordMetadata> written = new ArrayList<>();
  static final int N = 300;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void broker() throws Exception {
    kafka = KafkaBroker.start();
    kafka.createTopic("events", 2);
    var random = new Random(7);
    try (var producer = producer(kafka.bootstrap())) {
      for (int i = 0; i < N; i++) {
        // Binary values of every size up to 3 KiB, some without a key.
        var value = new byte[random.nextInt(3 * 1024)];
        random.nextBytes(value);
        var key = i % 3 == 0 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8);
        produced.add(new byte[][] {key, value});
        written.add(producer.send(new ProducerRecord<>("events", 0, key, value)).get());
      }
      producer.send(new ProducerRecord<>("events", 1, null, "other".getBytes())).get();
    }
  }

  static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 0),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  @AfterAll
  static void stopBroker() throws Exception {
    kafka.close();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  PubSubClient connect(String... headers) throws Exception {
    return PubSubClient.connect("ws://127.0.0.1:" + gw.port() + "/kafka", headers);
  }

  @Test
  void listsOffsetsAndFetchesEverythingProducedByteForByte() throws Exception {
    gw = Gateways.start(dir, routes(kafka.bootstrap(), "{}"));
    try (var c = connect()) {
      assertThat(c.listOffset("events", 0, -2).getKafkaListOffsetResp().getOffset()).isZero();
      assertThat(c.listOffset("events", 0, -1).getKafkaListOffsetResp().getOffset()).isEqualTo(N);
      var middle = written.get(N / 2);
      assertThat(c.listOffset("events", 0, middle.timestamp()).getKafkaListOffsetResp().getOffset())
          .isLessThanOrEqualTo(N / 2);
      // A time after every message: the next message will be at the end offset.
      assertThat(
              c.listOffset("events", 0, System.currentTimeMillis() + 3_600_000)
                  .getKafkaListOffsetResp()
                  .getOffset())
          .isEqualTo(N);

      var got = new ArrayList<KafkaMessage>();
      long offset = 0;
      int fetches = 0;
      while (offset < N) {
        var resp = c.fetch("events", 0, offset);
        assertThat(resp.hasKafkaFetchResp()).as(resp.toString()).isTrue();
        var messages = resp.getKafkaFetchResp().getMessagesList();
        got.addAll(messages);
        if (!messages.isEmpty()) {
          offset = messages.get(messages.size() - 1).getOffset() + 1;
        }
        fetches++;
      }
      // 300 messages of up to 3 KiB do not fit one answer of at most 1 MiB... they do; the
      // sizes below make sure they came in order and whole.
      assertThat(got).hasSize(N);
      for (int i = 0; i < N; i++) {
        var m = got.get(i);
        assertThat(m.getOffset()).isEqualTo(i);
        assertThat(m.getTimestamp()).isEqualTo(written.get(i).timestamp());
        var key = produced.get(i)[0];
        assertThat(m.getKey().toByteArray()).isEqualTo(key == null ? new byte[0] : key);
        assertThat(m.getValue().toByteArray()).isEqualTo(produced.get(i)[1]);
      }
      assertThat(fetches).isPositive();

      // At the end of the log: an answer with no messages.
      var end = c.fetch("events", 0, N);
      assertThat(end.hasKafkaFetchResp()).isTrue();
      assertThat(end.getKafkaFetchResp().getMessagesCount()).isZero();

      // The other partition, on the same session.
      var other = c.fetch("events", 1, 0).getKafkaFetchResp().getMessagesList();
      assertThat(other).hasSize(1);
      assertThat(other.get(0).getValue().toStringUtf8()).isEqualTo("other");
    }
    assertThat(gw.status("/metrics"))
        .contains("archway_pubsub_commands_total{command=\"cmd_kafka_fetch\",result=\"ok\"}")
        .contains("archway_pubsub_messages_total " + (N + 1));
  }

  @Test
  void answersAreBoundedBySizeAndFollowOn() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "{}"),
            o -> o.withPubSub(PubSubSettings.DEFAULTS.withMaxFetchBytes(8 * 1024)));
    try (var c = connect()) {
      long offset = 0;
      int answers = 0;
      while (offset < N) {
        var messages = c.fetch("events", 0, offset).getKafkaFetchResp().getMessagesList();
        long bytes =
            messages.stream().mapToLong(m -> m.getValue().size() + m.getKey().size()).sum();
        assertThat(messages).isNotEmpty();
        assertThat(bytes <= 8 * 1024 || messages.size() == 1).as("%d bytes", bytes).isTrue();
        assertThat(messages.get(0).getOffset()).isEqualTo(offset);
        offset = messages.get(messages.size() - 1).getOffset() + 1;
        answers++;
      }
      assertThat(answers).isGreaterThan(N * 1500 / (8 * 1024));
      // Back to an earlier offset: the consumer seeks.
      assertThat(c.fetch("events", 0, 5).getKafkaFetchResp().getMessages(0).getOffset())
          .isEqualTo(5);
    }
  }

  @Test
  void answersMadeAheadAreReleasedWhenTheirReaderLeaves() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "{}"),
            o -> o.withPubSub(PubSubSettings.DEFAULTS.withMaxFetchBytes(8 * 1024)));
    var metrics = gw.dataplane().servers().pubsub().metrics();
    try (var c = connect()) {
      long offset = 0;
      for (int i = 0; i < 3; i++) {
        var messages = c.fetch("events", 0, offset).getKafkaFetchResp().getMessagesList();
        offset = messages.get(messages.size() - 1).getOffset() + 1;
      }
      // A reader going forwards: the consumer's thread makes its next answers ahead.
      await().atMost(Duration.ofSeconds(30)).until(() -> metrics.answersAheadBytes() > 0);
      assertThat(gw.status("/metrics")).contains("archway_pubsub_answers_ahead_bytes ");
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> metrics.answersAheadBytes() == 0);
  }

  @Test
  void pipelinedFetchesAreAnsweredWholeWhereverTheyStart() throws Exception {
    int limit = 8 * 1024;
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "{}"),
            o -> o.withPubSub(PubSubSettings.DEFAULTS.withMaxFetchBytes(limit)));
    // Where whole answers end, reading forwards from 0.
    var ends = new ArrayList<Long>();
    for (long o = 0; o < N; ) {
      o = answerEnd(o, limit);
      ends.add(o);
    }
    try (var c = connect()) {
      // Sent all at once, answered in order: answers tiling the log, then fetches starting a
      // little behind the last answer's end (overlap), a little past it (skip), far back (a
      // seek), and the end of the log.
      var offsets = new ArrayList<Long>();
      offsets.add(0L);
      offsets.addAll(ends.subList(0, 4));
      offsets.add(ends.get(4) - 2);
      offsets.add(ends.get(6) + 1);
      offsets.add(3L);
      offsets.add((long) N - 1);
      offsets.add((long) N);
      for (int i = 0; i < offsets.size(); i++) {
        c.send(
            PubSubReq.newBuilder()
                .setSequence(i)
                .setCmdKafkaFetch(
                    CmdKafkaFetch.newBuilder()
                        .setTopic("events")
                        .setPartition(0)
                        .setOffset(offsets.get(i)))
                .build()
                .toByteArray());
      }
      for (int i = 0; i < offsets.size(); i++) {
        var resp = c.next();
        assertThat(resp.getSequence()).isEqualTo(i);
        long from = offsets.get(i);
        var messages = resp.getKafkaFetchResp().getMessagesList();
        long to = from == N ? N : answerEnd(from, limit);
        assertThat(messages).as("answer from %d", from).hasSize((int) (to - from));
        for (int j = 0; j < messages.size(); j++) {
          var m = messages.get(j);
          assertThat(m.getOffset()).isEqualTo(from + j);
          assertThat(m.getValue().toByteArray()).isEqualTo(produced.get((int) (from + j))[1]);
        }
      }
    }
  }

  /** Where a whole answer of at most {@code limit} bytes from {@code from} ends. */
  static long answerEnd(long from, int limit) {
    long bytes = 0;
    long o = from;
    while (o < N) {
      var kv = produced.get((int) o);
      long size = (kv[0] == null ? 0 : kv[0].length) + kv[1].length;
      if (o > from && bytes + size > limit) {
        break;
      }
      bytes += size;
      o++;
    }
    return o;
  }

  @Test
  void pingEchoesItsStateAndEveryAnswerItsSequence() throws Exception {
    gw = Gateways.start(dir, routes(kafka.bootstrap(), "{}"));
    try (var c = connect()) {
      var pong = c.ping("hello");
      assertThat(pong.getPongResp().getState().toStringUtf8()).isEqualTo("hello");
      c.send(
          PubSubReq.newBuilder()
              .setSequence(424242)
              .setCmdKafkaListOffset(
                  io.archway.dataplane.pubsub.proto.CmdKafkaListOffset.newBuilder()
                      .setTopic("events")
                      .setTimestamp(-1))
              .build()
              .toByteArray());
      var resp = c.next();
      assertThat(resp.getSequence()).isEqualTo(424242);
      assertThat(resp.getKafkaListOffsetResp().getOffset()).isEqualTo(N);
    }
  }

  @Test
  void badInputGetsErrorsAndTheSessionGoesOn() throws Exception {
    gw = Gateways.start(dir, routes(kafka.bootstrap(), "{}"));
    try (var c = connect()) {
      // A text frame is ignored: nothing comes back for it, the next command is answered.
      c.sendText("hello?");
      assertThat(c.ping("after text").getPongResp().getState().toStringUtf8())
          .isEqualTo("after text");

      c.send(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
      var wrong = c.next();
      assertThat(wrong.getSequence()).isZero();
      assertThat(wrong.getErrorResp().getMessage()).isEqualTo("wrong command");

      var empty = c.call(PubSubReq.newBuilder().setCmdEmpty(CmdEmpty.getDefaultInstance()));
      assertThat(empty.getErrorResp().getMessage()).isEqualTo("unknown command");
      // A command number this version does not know (field 40, an empty message).
      c.send(new byte[] {0x08, 0x07, (byte) 0xc2, 0x02, 0x00});
      var unknown = c.next();
      assertThat(unknown.getSequence()).isEqualTo(7);
      assertThat(unknown.getErrorResp().getMessage()).isEqualTo("unknown command");

      assertThat(error(c.fetch("nope", 0, 0))).contains("topic \"nope\" not found");
      assertThat(error(c.listOffset("nope", 0, -1))).contains("topic \"nope\" not found");
      assertThat(error(c.fetch("events", 5, 0)))
          .contains("partition 5 of topic \"events\" not found (expected: 0..1)");
      assertThat(error(c.fetch("events", 0, N + 50)))
          .isEqualTo("offset 350 out of range for topic \"events\" partition 0 (expected: 0..300)");
      assertThat(error(c.fetch("events", 0, -3))).contains("offset -3 out of range");
      assertThat(error(c.listOffset("events", 0, -7))).startsWith("timestamp: -7 (expected:");
      assertThat(error(c.fetch("", 0, 0))).startsWith("topic: missing");

      // After all that, the session still serves.
      assertThat(c.fetch("events", 0, 0).getKafkaFetchResp().getMessages(0).getOffset()).isZero();
    }
    assertThat(gw.status("/metrics"))
        .contains("archway_pubsub_commands_total{command=\"other\",result=\"error\"} 3");
  }

  static String error(PubSubResp resp) {
    assertThat(resp.hasErrorResp()).as(resp.toString()).isTrue();
    assertThat(resp.getErrorResp().getCode()).isZero();
    return resp.getErrorResp().getMessage();
  }

  @Test
  void aFrameOverTheLimitClosesWith1009() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "{}"),
            o -> o.withPubSub(PubSubSettings.DEFAULTS.withMaxFrameBytes(1024)));
    try (var c = connect()) {
      assertThat(c.ping("small").hasPongResp()).isTrue();
      var big = new byte[4096];
      Arrays.fill(big, (byte) 1);
      c.send(big);
      assertThat(c.closeStatus()).isEqualTo(1009);
    }
    // Other sessions are not touched.
    try (var c = connect()) {
      assertThat(c.ping("next").hasPongResp()).isTrue();
    }
    assertThat(gw.status("/metrics")).contains("archway_pubsub_closed_too_big_total 1");
  }

  @Test
  void authPluginsRunBeforeTheUpgrade() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "key-auth: {}")
                + """
                consumers:
                  - username: jack
                    plugins:
                      key-auth:
                        key: jack-key
                """);
    var refused = assertThatThrownBy(this::connect).isInstanceOf(ExecutionException.class);
    refused.cause().isInstanceOf(WebSocketHandshakeException.class);
    try {
      connect();
    } catch (ExecutionException e) {
      var response = ((WebSocketHandshakeException) e.getCause()).getResponse();
      assertThat(response.statusCode()).isEqualTo(401);
    }
    try (var c = connect("apikey", "jack-key")) {
      assertThat(c.listOffset("events", 0, -1).getKafkaListOffsetResp().getOffset()).isEqualTo(N);
    }
    assertThat(gw.status("/metrics")).contains("archway_pubsub_sessions_total 1");
  }

  @Test
  void aPlainRequestToAPubSubRouteIsRefused() throws Exception {
    gw = Gateways.start(dir, routes(kafka.bootstrap(), "{}"));
    var resp = gw.get("/kafka");
    assertThat(resp.statusCode()).isEqualTo(400);
    assertThat(resp.body()).contains("Kafka pub-sub over WebSocket");
  }

  @Test
  void aDeadBrokerGivesErrorsAndTheSessionWorksWhenItIsBack() throws Exception {
    try (var own = KafkaBroker.start()) {
      own.createTopic("t", 1);
      try (var producer = producer(own.bootstrap())) {
        producer.send(new ProducerRecord<>("t", 0, null, "one".getBytes())).get();
      }
      gw =
          Gateways.start(
              dir,
              routes(own.bootstrap(), "{}"),
              o -> o.withPubSub(PubSubSettings.DEFAULTS.withBrokerTimeout(Duration.ofSeconds(2))));
      try (var c = connect()) {
        assertThat(c.fetch("t", 0, 0).getKafkaFetchResp().getMessagesCount()).isEqualTo(1);
        own.stop();
        assertThat(error(c.listOffset("t", 0, -1))).contains("did not answer within 2000 ms");
        assertThat(error(c.fetch("t", 0, 1))).contains("did not answer within 2000 ms");
        assertThat(c.ping("still here").hasPongResp()).isTrue();
        own.restart();
        try (var producer = producer(own.bootstrap())) {
          producer.send(new ProducerRecord<>("t", 0, null, "two".getBytes())).get();
        }
        await()
            .atMost(Duration.ofSeconds(60))
            .untilAsserted(
                () -> {
                  var resp = c.fetch("t", 0, 1);
                  assertThat(resp.hasKafkaFetchResp()).as(resp.toString()).isTrue();
                  assertThat(resp.getKafkaFetchResp().getMessagesList())
                      .extracting(m -> m.getValue().toStringUtf8())
                      .containsExactly("two");
                });
      }
    }
  }

  @Test
  void saslPlainFromTheKafkaProxyPlugin() throws Exception {
    try (var secured = KafkaBroker.withSasl(Map.of("alice", "alice-secret"))) {
      secured.createTopic("s", 1);
      try (var producer = producer(secured.bootstrap())) {
        producer.send(new ProducerRecord<>("s", 0, "k".getBytes(), "secret".getBytes())).get();
      }
      var good = "kafka-proxy:\n  sasl: {username: alice, password: alice-secret}";
      gw = Gateways.start(dir, routes(secured.saslBootstrap(), good));
      try (var c = connect()) {
        var messages = c.fetch("s", 0, 0).getKafkaFetchResp().getMessagesList();
        assertThat(messages).extracting(m -> m.getValue().toStringUtf8()).containsExactly("secret");
      }
      gw.reload(
          routes(
              secured.saslBootstrap(), "kafka-proxy:\n  sasl: {username: alice, password: wrong}"));
      try (var c = connect()) {
        assertThat(error(c.fetch("s", 0, 0))).startsWith("Kafka authentication failed");
      }
    }
  }

  @Test
  void aClientThatFloodsIsHeldBackNotBuffered() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "{}"),
            o ->
                o.withPubSub(
                    PubSubSettings.DEFAULTS.withMaxInFlight(4).withMaxFetchBytes(64 * 1024)));
    int total = 1000;
    // Each command padded to 32 KiB with a field the gateway skips (protobuf's unknown fields),
    // so the socket buffers fill after a few hundred of them.
    var padding = new byte[32 * 1024];
    var command =
        PubSubReq.newBuilder()
            .setSequence(1)
            .setCmdKafkaFetch(
                io.archway.dataplane.pubsub.proto.CmdKafkaFetch.newBuilder()
                    .setTopic("events")
                    .setOffset(0))
            .setUnknownFields(
                com.google.protobuf.UnknownFieldSet.newBuilder()
                    .addField(
                        20,
                        com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                            .addLengthDelimited(com.google.protobuf.ByteString.copyFrom(padding))
                            .build())
                    .build())
            .build()
            .toByteArray();
    try (var raw = RawWebSocket.open(gw.port(), "/kafka")) {
      var writer = Stalls.flood(total, () -> raw.writeBinary(command));
      // Not reading: the gateway answers what it took, then stops reading, and the writer stalls.
      Stalls.awaitStalled(writer);
      assertThat(writer.count()).isLessThan(total);
      long taken = commands(true) + commands(false);
      assertThat(taken).as("commands taken while the client reads nothing").isLessThan(100);

      // Reading again: everything sent is answered, in full.
      int answered = 0;
      while (answered < total) {
        var resp = PubSubResp.parseFrom(raw.readBinary());
        assertThat(resp.getKafkaFetchResp().getMessages(0).getOffset()).isZero();
        answered++;
      }
      writer.join();
      assertThat(writer.count()).isEqualTo(total);
    }
  }

  long commands(boolean ok) {
    return gw.dataplane().servers().pubsub().metrics().commands("cmd_kafka_fetch", ok);
  }

  @Test
  void aSessionWithNothingToDoIsClosedWhenIdle() throws Exception {
    gw =
        Gateways.start(
            dir,
            routes(kafka.bootstrap(), "{}"),
            o -> o.withPubSub(PubSubSettings.DEFAULTS.withIdleTimeout(Duration.ofMillis(500))));
    try (var c = connect()) {
      assertThat(c.ping("one").hasPongResp()).isTrue();
      assertThat(c.closeStatus()).isEqualTo(1000);
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> gw.dataplane().servers().pubsub().metrics().sessions() == 0);
  }

  @Test
  void theExampleFileServes() throws Exception {
    var example =
        java.nio.file.Files.readString(Path.of("../examples/kafka-pubsub.yaml"))
            .replace("127.0.0.1:9092", kafka.bootstrap())
            .replace("#END", "");
    gw = Gateways.start(dir, example);
    assertThatThrownBy(this::connect).isInstanceOf(ExecutionException.class);
    try (var c = connect("apikey", "reader-key")) {
      long first = c.listOffset("events", 0, -2).getKafkaListOffsetResp().getOffset();
      var messages = c.fetch("events", 0, first).getKafkaFetchResp().getMessagesList();
      assertThat(messages.get(0).getValue().toByteArray()).isEqualTo(produced.get(0)[1]);
    }
  }
}
