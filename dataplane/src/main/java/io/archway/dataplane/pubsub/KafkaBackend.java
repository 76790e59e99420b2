package io.archway.dataplane.pubsub;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.archway.dataplane.pubsub.proto.ErrorResp;
import io.archway.dataplane.pubsub.proto.KafkaFetchResp;
import io.archway.dataplane.pubsub.proto.KafkaListOffsetResp;
import io.archway.dataplane.pubsub.proto.KafkaMessage;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka consumers of one {@link KafkaAccess}, shared by every session that reaches it. Each
 * consumer belongs to one thread (kafka-clients' consumers are not thread-safe, and their calls
 * block), which serves commands from its queue one after the other; a partition always goes to the
 * same thread, so a session reading it forwards sees its next fetch answered from what the consumer
 * already fetched ahead, without seeking. Nothing here runs on an event loop: answers are handed
 * back to the session, which writes them on its own.
 */
final class KafkaBackend implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KafkaBackend.class);
  private static final AtomicInteger IDS = new AtomicInteger();

  /** A command for the brokers, answered by {@code reply} on the consumer's thread. */
  sealed interface Command {
    long sequence();

    String topic();

    int partition();

    long arrivedNanos();

    Consumer<PubSubResp> reply();
  }

  record ListOffset(
      long sequence,
      String topic,
      int partition,
      long timestamp,
      long arrivedNanos,
      Consumer<PubSubResp> reply)
      implements Command {}

  record Fetch(
      long sequence,
      String topic,
      int partition,
      long offset,
      long arrivedNanos,
      Consumer<PubSubResp> reply)
      implements Command {}

  private final KafkaAccess access;
  private final PubSubSettings settings;
  private final PubSubMetrics metrics;
  private final Worker[] workers;
  private final AtomicInteger sessions = new AtomicInteger();
  private volatile long lastUsedNanos = System.nanoTime();
  private volatile boolean closed;

  KafkaBackend(KafkaAccess access, PubSubSettings settings, PubSubMetrics metrics) {
    this.access = access;
    this.settings = settings;
    this.metrics = metrics;
    this.workers = new Worker[Math.max(1, settings.consumers())];
    int id = IDS.incrementAndGet();
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker("archway-pubsub-" + id + "-" + i);
      workers[i].thread.start();
    }
  }

  KafkaAccess access() {
    return access;
  }

  /** A session starts using this backend. */
  void acquire() {
    sessions.incrementAndGet();
    lastUsedNanos = System.nanoTime();
  }

  void release() {
    sessions.decrementAndGet();
    lastUsedNanos = System.nanoTime();
  }

  /** Whether no session has used it for {@code idleNanos}. */
  boolean idle(long idleNanos) {
    return sessions.get() == 0 && System.nanoTime() - lastUsedNanos > idleNanos;
  }

  void submit(Command c) {
    if (closed) {
      c.reply().accept(error(c.sequence(), "the gateway is stopping"));
      return;
    }
    int h = 31 * c.topic().hashCode() + c.partition();
    workers[Math.floorMod(h, workers.length)].queue.add(c);
  }

  @Override
  public void close() {
    closed = true;
    for (var w : workers) {
      w.thread.interrupt();
      var consumer = w.consumer;
      if (consumer != null) {
        consumer.wakeup();
      }
    }
    for (var w : workers) {
      try {
        w.thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static PubSubResp error(long sequence, String message) {
    return PubSubResp.newBuilder()
        .setSequence(sequence)
        .setErrorResp(ErrorResp.newBuilder().setCode(0).setMessage(message))
        .build();
  }

  /** One consumer and the thread that owns it. */
  private final class Worker implements Runnable {
    final Thread thread;
    final LinkedBlockingQueue<Command> queue = new LinkedBlockingQueue<>();
    volatile KafkaConsumer<byte[], byte[]> consumer;
    // The partition assigned, the offset its next fetch is expected at, and the messages the
    // consumer returned past the last answer's size limit, served first to that next fetch.
    private TopicPartition assigned;
    private long next = -1;
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> ahead = new ArrayDeque<>();
    // Partition counts of the topics seen, with when they were looked up.
    private final Map<String, long[]> topics = new HashMap<>();

    Worker(String name) {
      thread = new Thread(this, name);
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      try {
        while (!closed) {
          Command c;
          try {
            c = queue.poll(1, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            break;
          }
          if (c != null) {
            serve(c);
          }
        }
      } finally {
        Command c;
        while ((c = queue.poll()) != null) {
          c.reply().accept(error(c.sequence(), "the gateway is stopping"));
        }
        dropConsumer();
      }
    }

    private void serve(Command c) {
      PubSubResp resp;
      try {
        if (consumer == null) {
          consumer =
              new KafkaConsumer<>(
                  access.consumerProperties(settings, thread.getName()),
                  new ByteArrayDeserializer(),
                  new ByteArrayDeserializer());
          metrics.consumers.incrementAndGet();
        }
        resp =
            switch (c) {
              case ListOffset l -> listOffset(l);
              case Fetch f -> fetch(f);
            };
      } catch (WakeupException | InterruptException e) {
        resp = error(c.sequence(), "the gateway is stopping");
      } catch (TimeoutException e) {
        resp =
            error(
                c.sequence(),
                "Kafka brokers "
                    + String.join(",", access.brokers())
                    + " did not answer within "
                    + settings.brokerTimeout().toMillis()
                    + " ms");
      } catch (AuthenticationException e) {
        resp = error(c.sequence(), "Kafka authentication failed: " + e.getMessage());
        // The connection state is kept by the consumer; start afresh for the next command.
        dropConsumer();
      } catch (AuthorizationException e) {
        resp = error(c.sequence(), "not authorized by Kafka: " + e.getMessage());
      } catch (RuntimeException e) {
        // KafkaException and anything unexpected: the command fails, the thread goes on.
        log.warn("{}: {} failed: {}", access, c.getClass().getSimpleName(), e.toString());
        resp = error(c.sequence(), "Kafka error: " + e.getMessage());
        dropConsumer();
      }
      metrics.kafkaCall(c instanceof Fetch, System.nanoTime() - c.arrivedNanos());
      c.reply().accept(resp);
    }

    private void dropConsumer() {
      var k = consumer;
      consumer = null;
      assigned = null;
      next = -1;
      ahead.clear();
      topics.clear();
      if (k != null) {
        metrics.consumers.decrementAndGet();
        try {
          k.close(Duration.ZERO);
        } catch (RuntimeException e) {
          log.debug("closing a Kafka consumer: {}", e.toString());
        }
      }
    }

    /** Why the partition cannot be read, or {@code null} when it exists. */
    private String checkPartition(String topic, int partition) {
      if (topic.isEmpty()) {
        return "topic: missing (expected: a topic name)";
      }
      var known = topics.get(topic);
      long now = System.nanoTime();
      if (known == null || partition >= known[0] || now - known[1] > TimeUnit.SECONDS.toNanos(30)) {
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

    private PubSubResp listOffset(ListOffset c) {
      var problem = checkPartition(c.topic(), c.partition());
      if (problem != null) {
        return error(c.sequence(), problem);
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

    private PubSubResp fetch(Fetch c) {
      var problem = checkPartition(c.topic(), c.partition());
      if (problem != null) {
        return error(c.sequence(), problem);
      }
      var tp = new TopicPartition(c.topic(), c.partition());
      if (!tp.equals(assigned)) {
        consumer.assign(List.of(tp));
        assigned = tp;
        next = -1;
        ahead.clear();
      }
      if (c.offset() != next) {
        ahead.clear();
        next = -1;
        if (c.offset() < 0) {
          return outOfRange(c, tp);
        }
        consumer.seek(tp, c.offset());
        next = c.offset();
      }
      long deadline = System.nanoTime() + settings.brokerTimeout().toNanos();
      while (ahead.isEmpty()) {
        try {
          ahead.addAll(consumer.poll(settings.fetchWait()).records(tp));
        } catch (OffsetOutOfRangeException e) {
          next = -1;
          return outOfRange(c, tp);
        }
        if (!ahead.isEmpty()) {
          break;
        }
        // Nothing yet: the end of the log, a fetch that takes longer (the first after a seek),
        // or brokers that do not answer. The end offset tells which.
        long end = consumer.endOffsets(List.of(tp), settings.brokerTimeout()).get(tp);
        if (c.offset() > end) {
          next = -1;
          return outOfRange(c, tp);
        }
        if (c.offset() == end || System.nanoTime() > deadline) {
          return PubSubResp.newBuilder()
              .setSequence(c.sequence())
              .setKafkaFetchResp(KafkaFetchResp.getDefaultInstance())
              .build();
        }
      }
      var out = KafkaFetchResp.newBuilder();
      long size = 0;
      int n = 0;
      while (!ahead.isEmpty()) {
        var r = ahead.peek();
        long s = size(r);
        if (n > 0 && size + s > settings.maxFetchBytes()) {
          break;
        }
        ahead.poll();
        var m = KafkaMessage.newBuilder().setOffset(r.offset()).setTimestamp(r.timestamp());
        if (r.key() != null) {
          m.setKey(wrap(r.key()));
        }
        if (r.value() != null) {
          m.setValue(wrap(r.value()));
        }
        out.addMessages(m);
        size += s;
        n++;
        next = r.offset() + 1;
      }
      metrics.fetched(n, size);
      return PubSubResp.newBuilder().setSequence(c.sequence()).setKafkaFetchResp(out).build();
    }

    private PubSubResp outOfRange(Fetch c, TopicPartition tp) {
      var tps = List.of(tp);
      long first = consumer.beginningOffsets(tps, settings.brokerTimeout()).get(tp);
      long end = consumer.endOffsets(tps, settings.brokerTimeout()).get(tp);
      return error(
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

  /**
   * A message's bytes as the limit counts them: key and value, as Kafka counts a fetch's (which is
   * capped at the same size), so one broker fetch fits one answer whole.
   */
  private static long size(ConsumerRecord<byte[], byte[]> r) {
    return length(r.key()) + length(r.value());
  }

  private static int length(byte[] b) {
    return b == null ? 0 : b.length;
  }

  // The consumer made the arrays for this answer alone: no copy is needed.
  private static ByteString wrap(byte[] b) {
    return UnsafeByteOperations.unsafeWrap(b);
  }
}
