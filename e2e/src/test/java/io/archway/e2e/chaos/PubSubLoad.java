package io.archway.e2e.chaos;

import io.archway.dataplane.pubsub.proto.CmdKafkaFetch;
import io.archway.dataplane.pubsub.proto.CmdKafkaListOffset;
import io.archway.dataplane.pubsub.proto.PubSubReq;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A constant pub-sub load for the chaos scenarios: virtual clients, each a WebSocket session (the
 * JDK's client) speaking APISIX's pubsub.proto to one route whose upstream is Kafka, sending in
 * turn a {@code CmdKafkaListOffset} (the end of partition 0 of the topic) and a {@code
 * CmdKafkaFetch} (from offset 0), one after the other with a short pause. Counted as {@link Load}
 * counts HTTP: an {@code ErrorResp} is a {@link Load.Kind#STATUS} (a clean error: the gateway
 * answered), an answer of the wrong kind or sequence a {@link Load.Kind#BODY}, a handshake refused
 * or a session closed by the gateway a {@link Load.Kind#RESET} (the close status and reason kept in
 * the example), no answer within the timeout a {@link Load.Kind#TIMEOUT}. A closed session is
 * opened again for the next command.
 */
final class PubSubLoad implements AutoCloseable {

  private final URI target;
  private final String topic;
  private final int clients;
  private final Duration pause;
  private final Duration timeout;
  private final Tally tally = new Tally();
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running;

  /**
   * @param target the route's URL ({@code ws://...})
   * @param timeout how long an answer may take: more than the gateway's broker timeout, after which
   *     it answers an error
   */
  PubSubLoad(URI target, String topic, int clients, Duration pause, Duration timeout) {
    this.target = target;
    this.topic = topic;
    this.clients = clients;
    this.pause = pause;
    this.timeout = timeout;
  }

  synchronized PubSubLoad start() {
    running = true;
    for (int i = 0; i < clients; i++) {
      threads.add(Thread.ofPlatform().daemon().name("pubsub-load-" + i).start(this::client));
    }
    return this;
  }

  synchronized Load.Result stop() throws InterruptedException {
    running = false;
    for (var t : threads) {
      t.join(timeout.toMillis() * 2 + 1000);
    }
    threads.clear();
    return tally.result();
  }

  Load.Result result() {
    return tally.result();
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    http.close();
  }

  /** One WebSocket session: its answers in order, and how it ended. */
  private final class Session implements WebSocket.Listener {
    final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    final AtomicLong sequence = new AtomicLong();
    WebSocket ws;

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      var bytes = new byte[data.remaining()];
      data.get(bytes);
      partial.writeBytes(bytes);
      if (last) {
        try {
          received.add(PubSubResp.parseFrom(partial.toByteArray()));
        } catch (Exception e) {
          received.add(e);
        }
        partial.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      received.add("closed " + status + (reason.isEmpty() ? "" : " " + reason));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      received.add(error);
    }
  }

  private void client() {
    Session session = null;
    for (long n = 0; running; n++) {
      if (session == null) {
        session = open();
      }
      if (session != null && !call(session, n % 2 == 0)) {
        session.ws.abort();
        session = null;
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (session != null) {
      session.ws.abort();
    }
  }

  private Session open() {
    long start = tally.start();
    var session = new Session();
    try {
      session.ws =
          http.newWebSocketBuilder()
              .connectTimeout(timeout)
              .buildAsync(target, session)
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      tally.answered(start);
      return session;
    } catch (TimeoutException e) {
      tally.fail(Load.Kind.TIMEOUT, "", "handshake: " + e);
    } catch (ExecutionException e) {
      tally.answered(start);
      tally.fail(Load.Kind.RESET, "", "handshake: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return null;
  }

  /** One command and its answer; returns whether the session may be used again. */
  private boolean call(Session s, boolean listOffset) {
    long seq = s.sequence.incrementAndGet();
    var req = PubSubReq.newBuilder().setSequence(seq);
    if (listOffset) {
      req.setCmdKafkaListOffset(
          CmdKafkaListOffset.newBuilder().setTopic(topic).setPartition(0).setTimestamp(-1));
    } else {
      req.setCmdKafkaFetch(CmdKafkaFetch.newBuilder().setTopic(topic).setPartition(0));
    }
    long start = tally.start();
    try {
      s.ws
          .sendBinary(ByteBuffer.wrap(req.build().toByteArray()), true)
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      var answer = s.received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (answer == null) {
        tally.fail(Load.Kind.TIMEOUT, "", "no answer in " + timeout.toMillis() + " ms");
        return false;
      }
      tally.answered(start);
      if (answer instanceof PubSubResp resp) {
        if (resp.hasErrorResp()) {
          tally.fail(Load.Kind.STATUS, resp.getErrorResp().getMessage(), "error_resp");
          return true;
        }
        boolean right =
            resp.getSequence() == seq
                && (listOffset ? resp.hasKafkaListOffsetResp() : resp.hasKafkaFetchResp());
        if (!right) {
          tally.fail(Load.Kind.BODY, resp.toString().replace('\n', ' '), "unexpected answer");
        }
        return right;
      }
      if (answer instanceof String closed) {
        tally.fail(Load.Kind.RESET, closed, "session closed by the gateway");
      } else {
        tally.fail(Load.Kind.RESET, "", answer.toString());
      }
      return false;
    } catch (TimeoutException e) {
      tally.fail(Load.Kind.TIMEOUT, "", "send: " + e);
    } catch (ExecutionException e) {
      tally.fail(Load.Kind.RESET, "", "send: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }
}
