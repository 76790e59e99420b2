package io.archway.dataplane.pubsub;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.archway.dataplane.pubsub.proto.KafkaFetchResp;
import io.archway.dataplane.pubsub.proto.KafkaMessage;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The hand-written fetch answer is byte for byte what protobuf's generated code writes. */
class EncodingTest {

  @Test
  void aFetchAnswerIsWhatProtobufWrites() {
    var random = new Random(7);
    var records = new ArrayList<ConsumerRecord<ByteBuffer, ByteBuffer>>();
    records.add(record(0, 0, null, null)); // every field at its default
    records.add(record(1, -1, "", "")); // no timestamp (Kafka's -1), empty key and value
    records.add(record(2, 1_700_000_000_000L, "k", "v"));
    records.add(record(Long.MAX_VALUE, Long.MIN_VALUE, null, "x".repeat(300)));
    for (int i = 0; i < 50; i++) {
      var value = new byte[random.nextInt(5000)];
      random.nextBytes(value);
      records.add(
          new ConsumerRecord<>(
              "t",
              0,
              1000 + i,
              random.nextLong(),
              TimestampType.CREATE_TIME,
              0,
              value.length,
              null,
              slice(value),
              new RecordHeaders(),
              Optional.empty()));
    }
    for (long sequence : new long[] {0, 1, -5, 1L << 40}) {
      assertSame(sequence, records);
      assertSame(sequence, List.of());
    }
  }

  @Test
  void theRecordsAreLeftAsTheyWere() {
    var r = record(3, 4, "key", "value");
    var buf = Encoding.encodeFetch(PooledByteBufAllocator.DEFAULT, 9, List.of(r));
    buf.release();
    assertThat(r.key().remaining()).isEqualTo(3);
    assertThat(r.value().remaining()).isEqualTo(5);
  }

  private static void assertSame(long sequence, List<ConsumerRecord<ByteBuffer, ByteBuffer>> rs) {
    var expected = KafkaFetchResp.newBuilder();
    for (var r : rs) {
      var m = KafkaMessage.newBuilder().setOffset(r.offset()).setTimestamp(r.timestamp());
      if (r.key() != null) {
        m.setKey(ByteString.copyFrom(r.key().duplicate()));
      }
      if (r.value() != null) {
        m.setValue(ByteString.copyFrom(r.value().duplicate()));
      }
      expected.addMessages(m);
    }
    var want = PubSubResp.newBuilder().setSequence(sequence).setKafkaFetchResp(expected).build();
    var buf = Encoding.encodeFetch(PooledByteBufAllocator.DEFAULT, sequence, rs);
    try {
      assertThat(ByteBufUtil.getBytes(buf)).isEqualTo(want.toByteArray());
    } finally {
      buf.release();
    }
  }

  private static ConsumerRecord<ByteBuffer, ByteBuffer> record(
      long offset, long timestamp, String key, String value) {
    return new ConsumerRecord<>(
        "t",
        0,
        offset,
        timestamp,
        TimestampType.CREATE_TIME,
        0,
        0,
        bytes(key),
        bytes(value),
        new RecordHeaders(),
        Optional.empty());
  }

  private static ByteBuffer bytes(String s) {
    return s == null ? null : slice(s.getBytes(StandardCharsets.UTF_8));
  }

  /** As the consumer hands them out: a view into a larger buffer, limited to the field. */
  private static ByteBuffer slice(byte[] b) {
    var big = ByteBuffer.allocate(b.length + 20);
    big.position(10);
    big.put(b);
    big.position(10);
    var view = big.slice();
    view.limit(b.length);
    return view;
  }
}
