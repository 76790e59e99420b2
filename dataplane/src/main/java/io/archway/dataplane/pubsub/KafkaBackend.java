package io.archway.dataplane.pubsub;

import io.archway.dataplane.pubsub.proto.ErrorResp;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The Kafka consumers of one {@link KafkaAccess}, shared by every session that reaches it. Each
 * consumer belongs to one thread (kafka-clients' consumers are not thread-safe, and their calls
 * block), which serves commands from its queue one after the other; a partition always goes to the
 * same thread, so a session reading it forwards sees its next fetch answered from what the consumer
 * already fetched ahead, without seeking. Nothing here runs on an event loop: answers are handed
 * back to the session, which writes them on its own.
 *
 * <p>This class is the backend's life (threads, sessions using it, commands handed to a thread); a
 * thread and its consumer are a {@link KafkaWorker}, which fetches with a {@link PartitionFetcher}
 * and looks up topics and offsets with an {@link OffsetLookup}.
 */
final class KafkaBackend implements AutoCloseable {

  private static final AtomicInteger IDS = new AtomicInteger();

  /**
   * What a command gets back, on the consumer's thread: an answer to encode as it is, or the
   * messages a fetch found, encoded straight from the consumer's buffers ({@link Encoding}).
   */
  sealed interface Answer {
    long sequence();
  }

  record Reply(PubSubResp resp) implements Answer {
    @Override
    public long sequence() {
      return resp.getSequence();
    }
  }

  record Messages(long sequence, List<ConsumerRecord<ByteBuffer, ByteBuffer>> records)
      implements Answer {}

  /** A fetch's answer already encoded (made ahead), sequence written; the receiver owns it. */
  record Encoded(long sequence, io.netty.buffer.ByteBuf buf) implements Answer {}

  /** A command for the brokers, answered by {@code reply} on the consumer's thread. */
  sealed interface Command {
    long sequence();

    String topic();

    int partition();

    long arrivedNanos();

    Consumer<Answer> reply();
  }

  record ListOffset(
      long sequence,
      String topic,
      int partition,
      long timestamp,
      long arrivedNanos,
      Consumer<Answer> reply)
      implements Command {}

  record Fetch(
      long sequence,
      String topic,
      int partition,
      long offset,
      long arrivedNanos,
      Consumer<Answer> reply)
      implements Command {}

  /** A session that fetched this partition has gone (a marker in its thread's queue). */
  record Left(String topic, int partition) {}

  private final KafkaAccess access;
  private final KafkaWorker[] workers;
  private final AtomicInteger sessions = new AtomicInteger();
  private volatile long lastUsedNanos = System.nanoTime();
  private volatile boolean closed;

  KafkaBackend(KafkaAccess access, PubSubSettings settings, PubSubMetrics metrics) {
    this.access = access;
    this.workers = new KafkaWorker[Math.max(1, settings.consumers())];
    int id = IDS.incrementAndGet();
    for (int i = 0; i < workers.length; i++) {
      workers[i] =
          new KafkaWorker(this, access, settings, metrics, "archway-pubsub-" + id + "-" + i);
      workers[i].thread.start();
    }
  }

  /** Whether the backend is closing: its threads stop. */
  boolean closed() {
    return closed;
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

  /** The thread that serves a partition: always the same one, so its window follows the reader. */
  private KafkaWorker worker(String topic, int partition) {
    int h = 31 * topic.hashCode() + partition;
    return workers[Math.floorMod(h, workers.length)];
  }

  /**
   * The answer a consumer thread made ahead for a fetch at {@code offset}, with {@code sequence}
   * written, or {@code null} when there is none for it (the fetch is then {@link #submit}ted). The
   * caller (the session's event loop) owns the buffer.
   */
  io.netty.buffer.ByteBuf ready(String topic, int partition, long offset, long sequence) {
    return closed ? null : worker(topic, partition).takeReady(topic, partition, offset, sequence);
  }

  /**
   * A session that fetched {@code topic}, {@code partition} has gone: the answers made ahead for
   * that partition are released, and none is made again until the next fetch.
   */
  void left(String topic, int partition) {
    if (!closed) {
      wake(worker(topic, partition), new Left(topic, partition));
    }
  }

  void submit(Command c) {
    if (closed) {
      c.reply().accept(new Reply(error(c.sequence(), "the gateway is stopping")));
      return;
    }
    wake(worker(c.topic(), c.partition()), c);
  }

  private static void wake(KafkaWorker w, Object o) {
    w.queue.add(o);
    if (w.fetchingAhead) {
      // The consumer is reading ahead for a session: the command comes first.
      var k = w.consumer;
      if (k != null) {
        k.wakeup();
      }
    }
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
}
