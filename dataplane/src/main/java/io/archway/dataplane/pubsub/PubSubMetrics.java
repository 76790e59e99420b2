package io.archway.dataplane.pubsub;

import static io.archway.dataplane.support.Prometheus.head;

import io.archway.dataplane.support.Histogram;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Pub-sub counters for {@code /metrics}. */
public final class PubSubMetrics {

  /** The commands counted, by their names in pubsub.proto; {@code other} for the rest. */
  enum Command {
    cmd_ping,
    cmd_kafka_list_offset,
    cmd_kafka_fetch,
    other
  }

  private final AtomicInteger sessions = new AtomicInteger();
  private final LongAdder sessionsTotal = new LongAdder();
  private final LongAdder[][] commands = new LongAdder[Command.values().length][2];
  private final LongAdder messages = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder closedTooBig = new LongAdder();
  private final Histogram listLatency = new Histogram();
  private final Histogram fetchLatency = new Histogram();
  final AtomicInteger consumers = new AtomicInteger();
  // Bytes of fetch answers made ahead by the consumer threads and not taken yet.
  final java.util.concurrent.atomic.AtomicLong answersAhead =
      new java.util.concurrent.atomic.AtomicLong();

  PubSubMetrics() {
    for (var row : commands) {
      row[0] = new LongAdder();
      row[1] = new LongAdder();
    }
  }

  void opened() {
    sessions.incrementAndGet();
    sessionsTotal.increment();
  }

  void closed() {
    sessions.decrementAndGet();
  }

  void command(Command c, boolean ok) {
    commands[c.ordinal()][ok ? 0 : 1].increment();
  }

  void fetched(int n, long size) {
    messages.add(n);
    bytes.add(size);
  }

  void tooBig() {
    closedTooBig.increment();
  }

  void kafkaCall(boolean fetch, long nanos) {
    (fetch ? fetchLatency : listLatency).observe(nanos);
  }

  long answersAheadBytes() {
    return answersAhead.get();
  }

  int sessions() {
    return sessions.get();
  }

  long commands(String command, boolean ok) {
    return commands[Command.valueOf(command).ordinal()][ok ? 0 : 1].sum();
  }

  public void render(StringBuilder out) {
    head(out, "archway_pubsub_sessions", "gauge", "Pub-sub WebSocket sessions open.");
    out.append("archway_pubsub_sessions ").append(sessions.get()).append('\n');
    head(out, "archway_pubsub_sessions_total", "counter", "Pub-sub sessions opened.");
    out.append("archway_pubsub_sessions_total ").append(sessionsTotal.sum()).append('\n');
    head(
        out,
        "archway_pubsub_commands_total",
        "counter",
        "Pub-sub commands answered, by command and result (ok, or error_resp).");
    for (var c : Command.values()) {
      for (int r = 0; r < 2; r++) {
        out.append("archway_pubsub_commands_total{command=\"")
            .append(c.name())
            .append("\",result=\"")
            .append(r == 0 ? "ok" : "error")
            .append("\"} ")
            .append(commands[c.ordinal()][r].sum())
            .append('\n');
      }
    }
    head(out, "archway_pubsub_messages_total", "counter", "Kafka messages sent to clients.");
    out.append("archway_pubsub_messages_total ").append(messages.sum()).append('\n');
    head(out, "archway_pubsub_message_bytes_total", "counter", "Key and value bytes sent.");
    out.append("archway_pubsub_message_bytes_total ").append(bytes.sum()).append('\n');
    head(
        out,
        "archway_pubsub_closed_too_big_total",
        "counter",
        "Sessions closed with 1009 for a command over the size limit.");
    out.append("archway_pubsub_closed_too_big_total ").append(closedTooBig.sum()).append('\n');
    head(out, "archway_pubsub_kafka_consumers", "gauge", "Kafka consumers open for pub-sub.");
    out.append("archway_pubsub_kafka_consumers ").append(consumers.get()).append('\n');
    head(
        out,
        "archway_pubsub_answers_ahead_bytes",
        "gauge",
        "Bytes of fetch answers made ahead for sessions reading forwards, not taken yet.");
    out.append("archway_pubsub_answers_ahead_bytes ").append(answersAhead.get()).append('\n');
    head(
        out,
        "archway_pubsub_kafka_seconds",
        "histogram",
        "Time from a command's arrival to its answer being ready, by command.");
    listLatency.render(out, "archway_pubsub_kafka_seconds", "command=\"cmd_kafka_list_offset\"");
    fetchLatency.render(out, "archway_pubsub_kafka_seconds", "command=\"cmd_kafka_fetch\"");
  }
}
