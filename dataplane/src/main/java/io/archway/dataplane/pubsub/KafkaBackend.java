package io.archway.dataplane.pubsub;

import io.archway.dataplane.pubsub.proto.ErrorResp;
import io.archway.dataplane.pubsub.proto.KafkaListOffsetResp;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
import org.apache.kafka.common.serialization.ByteBufferDeserializer;
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
      c.reply().accept(new Reply(error(c.sequence(), "the gateway is stopping")));
      return;
    }
    int h = 31 * c.topic().hashCode() + c.partition();
    var w = workers[Math.floorMod(h, workers.length)];
    w.queue.add(c);
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

  /** One consumer and the thread that owns it. */
  private final class Worker implements Runnable {
    final Thread thread;
    final LinkedBlockingQueue<Command> queue = new LinkedBlockingQueue<>();
    volatile KafkaConsumer<ByteBuffer, ByteBuffer> consumer;
    // Set while the consumer polls for a fetch not asked yet; a command arriving wakes it.
    volatile boolean fetchingAhead;
    // The partition assigned and the offset its next fetch is expected at; the messages read past
    // the last answer (its size limit, or read ahead), served first to that next fetch; and the
    // last answer's worth of messages behind it, for a pipelining client whose fetches overlap.
    private TopicPartition assigned;
    private long next = -1;
    private final ArrayDeque<ConsumerRecord<ByteBuffer, ByteBuffer>> ahead = new ArrayDeque<>();
    private long aheadBytes;
    private final ArrayDeque<ConsumerRecord<ByteBuffer, ByteBuffer>> behind = new ArrayDeque<>();
    private long behindBytes;
    // Whether to read ahead while no command waits: after a fetch that found messages, until the
    // end of the log or two answers' worth are held.
    private boolean readAhead;
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
          Command c = queue.poll();
          if (c == null && readAhead && aheadBytes < 2L * settings.maxFetchBytes()) {
            fetchAhead();
            continue;
          }
          if (c == null) {
            try {
              c = queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              break;
            }
          }
          if (c != null) {
            serve(c);
          }
        }
      } finally {
        Command c;
        while ((c = queue.poll()) != null) {
          c.reply().accept(new Reply(error(c.sequence(), "the gateway is stopping")));
        }
        dropConsumer();
      }
    }

    /**
     * Reads on while a session that reads forwards is busy with the last answer, as a consumer
     * application's next poll would: the broker's answer to the fetch the consumer already sent is
     * taken off the socket instead of waiting there, and the session's next fetch finds it ready. A
     * command arriving meanwhile wakes the poll up.
     */
    private void fetchAhead() {
      fetchingAhead = true;
      try {
        if (!queue.isEmpty()) {
          return;
        }
        var records = consumer.poll(settings.fetchWait()).records(assigned);
        if (records.isEmpty()) {
          readAhead = false; // the end of the log (or a slow broker): wait for the session
        }
        for (var r : records) {
          hold(r);
        }
      } catch (WakeupException e) {
        // A command came (or the backend closes): serve it.
      } catch (RuntimeException e) {
        // The session's next fetch meets the same problem and answers it.
        readAhead = false;
        log.debug("{}: reading ahead: {}", access, e.toString());
      } finally {
        fetchingAhead = false;
      }
    }

    private void hold(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
      ahead.add(r);
      aheadBytes += size(r);
    }

    /** Moves the first message ahead behind (it is being answered, or skipped). */
    private ConsumerRecord<ByteBuffer, ByteBuffer> take() {
      var r = ahead.poll();
      long s = size(r);
      aheadBytes -= s;
      behind.add(r);
      behindBytes += s;
      while (behindBytes > settings.maxFetchBytes() && behind.size() > 1) {
        behindBytes -= size(behind.poll());
      }
      return r;
    }

    /** Moves the last message behind back ahead. */
    private void untake() {
      var r = behind.pollLast();
      long s = size(r);
      behindBytes -= s;
      ahead.addFirst(r);
      aheadBytes += s;
    }

    /**
     * Moves the next fetch to {@code offset} within the messages held (behind or ahead of where the
     * last answer ended), rather than seek the consumer and drop them; false when they do not reach
     * it.
     */
    private boolean moveWithin(long offset) {
      if (next < 0) {
        return false;
      }
      if (offset < next) {
        if (behind.isEmpty() || offset < behind.peek().offset()) {
          return false;
        }
        while (!behind.isEmpty() && behind.peekLast().offset() >= offset) {
          untake();
        }
      } else {
        if (ahead.isEmpty() || offset > ahead.peekLast().offset()) {
          return false;
        }
        while (ahead.peek().offset() < offset) {
          take();
        }
      }
      next = offset;
      return true;
    }

    /** Whether the consumer's last fetch saw messages past those it has returned. */
    private boolean moreOnBroker(TopicPartition tp) {
      var lag = consumer.currentLag(tp);
      return lag.isPresent() && lag.getAsLong() > 0;
    }

    private void forget() {
      ahead.clear();
      aheadBytes = 0;
      behind.clear();
      behindBytes = 0;
      readAhead = false;
    }

    private void serve(Command c) {
      Answer answer = attempt(c);
      for (int i = 0; answer == null && i < 3 && !closed; i++) {
        // A wakeup meant for a read ahead that had just ended is spent now: try again.
        answer = attempt(c);
      }
      if (answer == null) {
        answer = new Reply(error(c.sequence(), "the gateway is stopping"));
      }
      metrics.kafkaCall(c instanceof Fetch, System.nanoTime() - c.arrivedNanos());
      c.reply().accept(answer);
    }

    /** The answer to {@code c}, or {@code null} when the consumer was woken up. */
    private Answer attempt(Command c) {
      PubSubResp resp;
      try {
        if (consumer == null) {
          consumer =
              new KafkaConsumer<>(
                  access.consumerProperties(settings, thread.getName()),
                  new ByteBufferDeserializer(),
                  new ByteBufferDeserializer());
          metrics.consumers.incrementAndGet();
        }
        return switch (c) {
          case ListOffset l -> new Reply(listOffset(l));
          case Fetch f -> fetch(f);
        };
      } catch (WakeupException e) {
        return null;
      } catch (InterruptException e) {
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
      return new Reply(resp);
    }

    private void dropConsumer() {
      var k = consumer;
      consumer = null;
      assigned = null;
      next = -1;
      forget();
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

    private Answer fetch(Fetch c) {
      var problem = checkPartition(c.topic(), c.partition());
      if (problem != null) {
        return new Reply(error(c.sequence(), problem));
      }
      var tp = new TopicPartition(c.topic(), c.partition());
      if (!tp.equals(assigned)) {
        consumer.assign(List.of(tp));
        assigned = tp;
        next = -1;
        forget();
      }
      if (c.offset() != next && !moveWithin(c.offset())) {
        forget();
        next = -1;
        if (c.offset() < 0) {
          return new Reply(outOfRange(c, tp));
        }
        consumer.seek(tp, c.offset());
        next = c.offset();
      }
      long deadline = System.nanoTime() + settings.brokerTimeout().toNanos();
      while (ahead.isEmpty()) {
        try {
          for (var r : consumer.poll(settings.fetchWait()).records(tp)) {
            hold(r);
          }
        } catch (OffsetOutOfRangeException e) {
          next = -1;
          return new Reply(outOfRange(c, tp));
        }
        if (!ahead.isEmpty()) {
          break;
        }
        // Nothing yet: the end of the log, a fetch that takes longer (the first after a seek),
        // or brokers that do not answer. The end offset tells which.
        long end = consumer.endOffsets(List.of(tp), settings.brokerTimeout()).get(tp);
        if (c.offset() > end) {
          next = -1;
          return new Reply(outOfRange(c, tp));
        }
        if (c.offset() == end || System.nanoTime() > deadline) {
          return new Messages(c.sequence(), List.of());
        }
      }
      // Less than a whole answer held while the partition has more: wait for what the consumer
      // is fetching, so that answers are whole whenever the log holds that much (a client that
      // pipelines its fetches counts on where an answer ends).
      while (aheadBytes < settings.maxFetchBytes() && moreOnBroker(tp)) {
        int before = ahead.size();
        try {
          for (var r : consumer.poll(settings.fetchWait()).records(tp)) {
            hold(r);
          }
        } catch (OffsetOutOfRangeException e) {
          break; // the log was cut short; answer what is held
        }
        if (ahead.size() == before) {
          break;
        }
      }
      var out = new ArrayList<ConsumerRecord<ByteBuffer, ByteBuffer>>();
      long size = 0;
      int n = 0;
      while (!ahead.isEmpty()) {
        var r = ahead.peek();
        long s = size(r);
        if (n > 0 && size + s > settings.maxFetchBytes()) {
          break;
        }
        out.add(take());
        size += s;
        n++;
        next = r.offset() + 1;
      }
      metrics.fetched(n, size);
      readAhead = true;
      return new Messages(c.sequence(), out);
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

  /** A message's bytes as the limit counts them: key and value, as Kafka counts a fetch's. */
  private static long size(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    return length(r.key()) + length(r.value());
  }

  private static int length(ByteBuffer b) {
    return b == null ? 0 : b.remaining();
  }
}
