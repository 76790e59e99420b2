package io.archway.dataplane.pubsub;

import io.archway.dataplane.pubsub.proto.KafkaListOffsetResp;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * What one consumer thread asks the brokers' metadata: whether a topic and partition exist (the
 * partition counts are cached 30 s, so an unknown topic or partition is an error naming it rather
 * than an empty answer), the offsets {@code list_offset} answers with, and the valid range an
 * out-of-range fetch is told. Runs on the consumer's thread only.
 */
final class OffsetLookup {

  private static final long TOPIC_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final PubSubSettings settings;
  // Partition counts of the topics seen, with when they were looked up.
  private final Map<String, long[]> topics = new HashMap<>();

  OffsetLookup(PubSubSettings settings) {
    this.settings = settings;
  }

  /** Forgets what was looked up (the consumer is dropped). */
  void clear() {
    topics.clear();
  }

  /** Why the partition cannot be read, or {@code null} when it exists. */
  String checkPartition(
      KafkaConsumer<ByteBuffer, ByteBuffer> consumer, String topic, int partition) {
    if (topic.isEmpty()) {
      return "topic: missing (expected: a topic name)";
    }
    var known = topics.get(topic);
    long now = System.nanoTime();
    if (known == null || partition >= known[0] || now - known[1] > TOPIC_TTL_NANOS) {
      var infos = consumer.partitionsFor(topic, settings.brokerTimeout());
      int n = infos == null ? 0 : infos.size();
      if (n == 0) {
        topics.remove(topic);
        return "topic \"" + topic + "\" not found";
      }
      known = new long[] {n, now};
      topics.put(topic, known);
    }
    if (partition < 0 || partition >= known[0]) {
      return "partition "
          + partition
          + " of topic \""
          + topic
          + "\" not found (expected: 0.."
          + (known[0] - 1)
          + ")";
    }
    return null;
  }

  PubSubResp listOffset(KafkaConsumer<ByteBuffer, ByteBuffer> consumer, KafkaBackend.ListOffset c) {
    var problem = checkPartition(consumer, c.topic(), c.partition());
    if (problem != null) {
      return KafkaBackend.error(c.sequence(), problem);
    }
    var tp = new TopicPartition(c.topic(), c.partition());
    var tps = List.of(tp);
    long offset;
    if (c.timestamp() == -1) {
      offset = consumer.endOffsets(tps, settings.brokerTimeout()).get(tp);
    } else if (c.timestamp() == -2) {
      offset = consumer.beginningOffsets(tps, settings.brokerTimeout()).get(tp);
    } else {
      var found = consumer.offsetsForTimes(Map.of(tp, c.timestamp()), settings.brokerTimeout());
      var at = found.get(tp);
      // No message at or after the time: the next one written will be, at the end offset.
      offset =
          at != null ? at.offset() : consumer.endOffsets(tps, settings.brokerTimeout()).get(tp);
    }
    return PubSubResp.newBuilder()
        .setSequence(c.sequence())
        .setKafkaListOffsetResp(KafkaListOffsetResp.newBuilder().setOffset(offset))
        .build();
  }

  /** The error for a fetch at an offset the partition does not hold, with the valid range. */
  PubSubResp outOfRange(
      KafkaConsumer<ByteBuffer, ByteBuffer> consumer, KafkaBackend.Fetch c, TopicPartition tp) {
    var tps = List.of(tp);
    long first = consumer.beginningOffsets(tps, settings.brokerTimeout()).get(tp);
    long end = consumer.endOffsets(tps, settings.brokerTimeout()).get(tp);
    return KafkaBackend.error(
        c.sequence(),
        "offset "
            + c.offset()
            + " out of range for topic \""
            + c.topic()
            + "\" partition "
            + c.partition()
            + " (expected: "
            + first
            + ".."
            + end
            + ")");
  }
}
