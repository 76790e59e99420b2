package io.archway.dataplane.pubsub;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;

/**
 * The fetches of one consumer thread, and the window on its assigned partition that makes reading
 * forwards cheap: the offset where the last answer ended ({@code next}), the messages read past it
 * ({@code ahead}) and the last answer's worth before it ({@code behind}). A fetch within the window
 * needs no seek; anywhere else the consumer seeks and the window starts afresh. Runs on the
 * consumer's thread only (see DESIGN.md, "Kafka access"), but for {@link #takeReady}: the next
 * answer, made ahead while no command waits, is taken by the event loop of the session that asks
 * for it.
 */
final class PartitionFetcher {

  private final PubSubSettings settings;
  private final PubSubMetrics metrics;
  private final OffsetLookup offsets;
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

  /**
   * The next answers of a partition read forwards, made ahead ({@link #prepare}), in offset order,
   * each starting where the one before ends: the first is taken by the first fetch at its offset,
   * straight from the session's event loop ({@link #takeReady}), or all are taken back by the
   * consumer's thread ({@link #reclaim}) when a command comes to it instead. Two answers are made
   * ahead, so that a session with two fetches in flight finds both without a hop to this thread.
   * Its body has room for the sequence in front.
   */
  record Ready(
      String topic,
      int partition,
      long offset,
      ByteBuf body,
      int messages,
      long bytes,
      Ready then) {

    Ready append(Ready last) {
      return new Ready(
          topic, partition, offset, body, messages, bytes, then == null ? last : then.append(last));
    }

    int count() {
      return then == null ? 1 : 1 + then.count();
    }

    long allBytes() {
      return then == null ? bytes : bytes + then.allBytes();
    }
  }

  /** How many answers are made ahead at most. */
  static final int READY_ANSWERS = 2;

  private final AtomicReference<Ready> ready = new AtomicReference<>();
  // Whether a session reads the partition forwards: answers are made ahead only then. A session
  // that leaves ends it (#left), so that answers made for it do not stay pinned.
  private boolean following;

  PartitionFetcher(PubSubSettings settings, PubSubMetrics metrics, OffsetLookup offsets) {
    this.settings = settings;
    this.metrics = metrics;
    this.offsets = offsets;
  }

  /** Whether to read on while no command waits. */
  boolean wantsReadAhead() {
    if (!readAhead) {
      return false;
    }
    // Two answers' worth held, and the answers made ahead from what was held before.
    var r = ready.get();
    return aheadBytes + (r == null ? 0 : r.allBytes())
        < (2L + READY_ANSWERS - 1) * settings.maxFetchBytes();
  }

  /**
   * One poll past what was answered, while the session that reads forwards is busy with the last
   * answer; a wakeup ({@code WakeupException}) ends it early.
   */
  void readAhead(KafkaConsumer<ByteBuffer, ByteBuffer> consumer) {
    var records = consumer.poll(settings.fetchWait()).records(assigned);
    if (records.isEmpty()) {
      readAhead = false; // the end of the log (or a slow broker): wait for the session
    }
    for (var r : records) {
      hold(r);
    }
  }

  /** Reading ahead failed: the session's next fetch meets the same problem and answers it. */
  void stopReadingAhead() {
    readAhead = false;
  }

  /**
   * Makes the next answers ahead, up to {@link #READY_ANSWERS}, while a whole answer's worth is
   * held past where the last one ended, so that a session reading forwards has them without a hop
   * to this thread.
   */
  void prepare() {
    while (following && assigned != null && next >= 0) {
      var have = ready.get();
      if (have != null && have.count() >= READY_ANSWERS) {
        return;
      }
      if (aheadBytes < settings.maxFetchBytes()) {
        return;
      }
      long from = next;
      var out = answer();
      ByteBuf body;
      try {
        body = Encoding.encodeFetchBody(ByteBufAllocator.DEFAULT, out);
      } catch (RuntimeException e) {
        moveWithin(from);
        return;
      }
      long bytes = 0;
      for (var r : out) {
        bytes += size(r);
      }
      metrics.answersAhead.addAndGet(body.readableBytes());
      var made =
          new Ready(assigned.topic(), assigned.partition(), from, body, out.size(), bytes, null);
      // The event loop may take the first meanwhile: append to what is there now.
      while (true) {
        var cur = ready.get();
        if (ready.compareAndSet(cur, cur == null ? made : cur.append(made))) {
          break;
        }
      }
    }
  }

  /**
   * The first answer made ahead, when it is for a fetch of {@code topic}, {@code partition} at
   * {@code offset}, with its sequence written, or {@code null}; any thread.
   */
  ByteBuf takeReady(String topic, int partition, long offset, long sequence) {
    while (true) {
      var r = ready.get();
      if (r == null
          || r.offset() != offset
          || r.partition() != partition
          || !r.topic().equals(topic)) {
        return null;
      }
      if (ready.compareAndSet(r, r.then())) {
        metrics.answersAhead.addAndGet(-r.body().readableBytes());
        metrics.fetched(r.messages(), r.bytes());
        return Encoding.withSequence(r.body(), sequence);
      }
    }
  }

  /**
   * Takes the answers made ahead back, those no fetch took: the window goes back to where the first
   * starts, as if they had not been made.
   */
  void reclaim() {
    var r = ready.getAndSet(null);
    if (r != null) {
      long from = r.offset();
      for (; r != null; r = r.then()) {
        metrics.answersAhead.addAndGet(-r.body().readableBytes());
        r.body().release();
      }
      moveWithin(from);
    }
  }

  /**
   * A session that fetched {@code topic}, {@code partition} left: the answers made ahead for it are
   * released now (rather than when the next command comes or the backend closes), and none is made
   * again until a fetch comes. The window stays.
   */
  void left(String topic, int partition) {
    if (assigned != null && assigned.partition() == partition && assigned.topic().equals(topic)) {
      reclaim();
      following = false;
      readAhead = false;
    }
  }

  /** Forgets the partition and the window (the consumer is dropped). */
  void reset() {
    reclaim();
    assigned = null;
    next = -1;
    forget();
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
  private static boolean moreOnBroker(
      KafkaConsumer<ByteBuffer, ByteBuffer> consumer, TopicPartition tp) {
    var lag = consumer.currentLag(tp);
    return lag.isPresent() && lag.getAsLong() > 0;
  }

  private void forget() {
    ahead.clear();
    aheadBytes = 0;
    behind.clear();
    behindBytes = 0;
    readAhead = false;
    following = false;
  }

  KafkaBackend.Answer fetch(KafkaConsumer<ByteBuffer, ByteBuffer> consumer, KafkaBackend.Fetch c) {
    var problem = offsets.checkPartition(consumer, c.topic(), c.partition());
    if (problem != null) {
      return new KafkaBackend.Reply(KafkaBackend.error(c.sequence(), problem));
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
        return new KafkaBackend.Reply(offsets.outOfRange(consumer, c, tp));
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
        return new KafkaBackend.Reply(offsets.outOfRange(consumer, c, tp));
      }
      if (!ahead.isEmpty()) {
        break;
      }
      // Nothing yet: the end of the log, a fetch that takes longer (the first after a seek),
      // or brokers that do not answer. The end offset tells which.
      long end = consumer.endOffsets(List.of(tp), settings.brokerTimeout()).get(tp);
      if (c.offset() > end) {
        next = -1;
        return new KafkaBackend.Reply(offsets.outOfRange(consumer, c, tp));
      }
      if (c.offset() == end || System.nanoTime() > deadline) {
        return new KafkaBackend.Messages(c.sequence(), List.of());
      }
    }
    // Less than a whole answer held while the partition has more: wait for what the consumer
    // is fetching, so that answers are whole whenever the log holds that much (a client that
    // pipelines its fetches counts on where an answer ends).
    while (aheadBytes < settings.maxFetchBytes() && moreOnBroker(consumer, tp)) {
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
    var out = answer();
    long size = 0;
    for (var r : out) {
      size += size(r);
    }
    metrics.fetched(out.size(), size);
    readAhead = true;
    following = true;
    return new KafkaBackend.Messages(c.sequence(), out);
  }

  /**
   * The messages of an answer from {@code next}, taken from those held ahead: up to the size limit,
   * at least one; {@code next} moves past them.
   */
  private List<ConsumerRecord<ByteBuffer, ByteBuffer>> answer() {
    var out = new ArrayList<ConsumerRecord<ByteBuffer, ByteBuffer>>();
    long size = 0;
    while (!ahead.isEmpty()) {
      var r = ahead.peek();
      long s = size(r);
      if (!out.isEmpty() && size + s > settings.maxFetchBytes()) {
        break;
      }
      out.add(take());
      size += s;
      next = r.offset() + 1;
    }
    return out;
  }

  /** A message's bytes as the limit counts them: key and value, as Kafka counts a fetch's. */
  private static long size(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    return length(r.key()) + length(r.value());
  }

  private static int length(ByteBuffer b) {
    return b == null ? 0 : b.remaining();
  }
}
