package io.archway.dataplane.pubsub;

import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka consumer of a {@link KafkaBackend} and the thread that owns it: the thread serves the
 * commands of its queue one after the other and, while none waits, reads ahead for a session
 * reading forwards ({@link PartitionFetcher}). The consumer is made on the first command and
 * dropped after an authentication failure or an unexpected error, so the next command starts
 * afresh; every failure is answered as an error, and the thread goes on.
 */
final class KafkaWorker implements Runnable {

  // Logs under the backend's name, as it always has (log settings name it).
  private static final Logger log = LoggerFactory.getLogger(KafkaBackend.class);

  private final KafkaBackend backend;
  private final KafkaAccess access;
  private final PubSubSettings settings;
  private final PubSubMetrics metrics;
  private final OffsetLookup offsets;
  private final PartitionFetcher fetcher;
  final Thread thread;
  // Commands; REFILL: an answer made ahead was taken, make the next; and Left: a session that
  // read a partition has gone, release the answers made ahead for it.
  final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  static final Object REFILL = new Object();
  volatile KafkaConsumer<ByteBuffer, ByteBuffer> consumer;
  // Set while the consumer polls for a fetch not asked yet; a command arriving wakes it.
  volatile boolean fetchingAhead;

  KafkaWorker(
      KafkaBackend backend,
      KafkaAccess access,
      PubSubSettings settings,
      PubSubMetrics metrics,
      String name) {
    this.backend = backend;
    this.access = access;
    this.settings = settings;
    this.metrics = metrics;
    this.offsets = new OffsetLookup(settings);
    this.fetcher = new PartitionFetcher(settings, metrics, offsets);
    thread = new Thread(this, name);
    thread.setDaemon(true);
  }

  @Override
  public void run() {
    try {
      while (!backend.closed()) {
        Object o = queue.poll();
        if (o == null || o == REFILL) {
          if (consumer != null) {
            prepare();
          }
          if (o == REFILL) {
            continue;
          }
          if (fetcher.wantsReadAhead()) {
            fetchAhead();
            continue;
          }
          try {
            o = queue.poll(1, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            break;
          }
        }
        if (o instanceof KafkaBackend.Left l) {
          fetcher.left(l.topic(), l.partition());
          continue;
        }
        if (o instanceof KafkaBackend.Fetch f && answerMadeAhead(f)) {
          continue;
        }
        if (o instanceof KafkaBackend.Command c) {
          // A command for this thread: the answer made ahead is not for it.
          fetcher.reclaim();
          serve(c);
        }
      }
    } finally {
      Object o;
      while ((o = queue.poll()) != null) {
        if (o instanceof KafkaBackend.Command c) {
          c.reply()
              .accept(
                  new KafkaBackend.Reply(
                      KafkaBackend.error(c.sequence(), "the gateway is stopping")));
        }
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
      fetcher.readAhead(consumer);
    } catch (WakeupException e) {
      // A command came (or the backend closes): serve it.
    } catch (RuntimeException e) {
      // The session's next fetch meets the same problem and answers it.
      fetcher.stopReadingAhead();
      log.debug("{}: reading ahead: {}", access, e.toString());
    } finally {
      fetchingAhead = false;
    }
  }

  /**
   * Answers {@code f} with the first answer made ahead when it is for its offset (a session that
   * pipelines its fetches reaches this thread with them): false when there is none for it.
   */
  private boolean answerMadeAhead(KafkaBackend.Fetch f) {
    var buf = fetcher.takeReady(f.topic(), f.partition(), f.offset(), f.sequence());
    if (buf == null) {
      return false;
    }
    metrics.kafkaCall(true, System.nanoTime() - f.arrivedNanos());
    f.reply().accept(new KafkaBackend.Encoded(f.sequence(), buf));
    return true;
  }

  /** Makes the next answers ahead for a session reading forwards, while whole ones are held. */
  private void prepare() {
    try {
      fetcher.prepare();
    } catch (RuntimeException e) {
      // The session's next fetch goes the usual way and meets whatever this was.
      log.debug("{}: making an answer ahead: {}", access, e.toString());
    }
  }

  /**
   * The first answer made ahead, when it is for this fetch, taken on the caller's thread (the
   * session's event loop), or {@code null}; this thread then makes the next.
   */
  io.netty.buffer.ByteBuf takeReady(String topic, int partition, long offset, long sequence) {
    var answer = fetcher.takeReady(topic, partition, offset, sequence);
    if (answer != null) {
      queue.add(REFILL);
    }
    return answer;
  }

  private void serve(KafkaBackend.Command c) {
    KafkaBackend.Answer answer = attempt(c);
    for (int i = 0; answer == null && i < 3 && !backend.closed(); i++) {
      // A wakeup meant for a read ahead that had just ended is spent now: try again.
      answer = attempt(c);
    }
    if (answer == null) {
      answer = new KafkaBackend.Reply(KafkaBackend.error(c.sequence(), "the gateway is stopping"));
    }
    metrics.kafkaCall(c instanceof KafkaBackend.Fetch, System.nanoTime() - c.arrivedNanos());
    c.reply().accept(answer);
  }

  /** The answer to {@code c}, or {@code null} when the consumer was woken up. */
  private KafkaBackend.Answer attempt(KafkaBackend.Command c) {
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
        case KafkaBackend.ListOffset l -> new KafkaBackend.Reply(offsets.listOffset(consumer, l));
        case KafkaBackend.Fetch f -> fetcher.fetch(consumer, f);
      };
    } catch (WakeupException e) {
      return null;
    } catch (InterruptException e) {
      resp = KafkaBackend.error(c.sequence(), "the gateway is stopping");
    } catch (TimeoutException e) {
      resp =
          KafkaBackend.error(
              c.sequence(),
              "Kafka brokers "
                  + String.join(",", access.brokers())
                  + " did not answer within "
                  + settings.brokerTimeout().toMillis()
                  + " ms");
    } catch (AuthenticationException e) {
      resp = KafkaBackend.error(c.sequence(), "Kafka authentication failed: " + e.getMessage());
      // The connection state is kept by the consumer; start afresh for the next command.
      dropConsumer();
    } catch (AuthorizationException e) {
      resp = KafkaBackend.error(c.sequence(), "not authorized by Kafka: " + e.getMessage());
    } catch (RuntimeException e) {
      // KafkaException and anything unexpected: the command fails, the thread goes on.
      log.warn("{}: {} failed: {}", access, c.getClass().getSimpleName(), e.toString());
      resp = KafkaBackend.error(c.sequence(), "Kafka error: " + e.getMessage());
      dropConsumer();
    }
    return new KafkaBackend.Reply(resp);
  }

  private void dropConsumer() {
    var k = consumer;
    consumer = null;
    fetcher.reset();
    offsets.clear();
    if (k != null) {
      metrics.consumers.decrementAndGet();
      try {
        k.close(Duration.ZERO);
      } catch (RuntimeException e) {
        log.debug("closing a Kafka consumer: {}", e.toString());
      }
    }
  }
}
