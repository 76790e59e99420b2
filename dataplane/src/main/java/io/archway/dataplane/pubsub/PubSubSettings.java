package io.archway.dataplane.pubsub;

import java.time.Duration;

/**
 * Limits of pub-sub sessions (Kafka over WebSocket).
 *
 * @param maxFrameBytes the largest command a client may send, in one frame or fragmented; a larger
 *     one closes the session with 1009 (message too big)
 * @param maxFetchBytes about how many message bytes one fetch answers with (at least one message,
 *     whatever its size); the rest waits for the next fetch. Also the consumers' broker fetch size
 *     ({@code max.partition.fetch.bytes}), as APISIX answers with one broker fetch
 * @param fetchWait how long a fetch at the end of the log waits for a message before answering with
 *     none
 * @param brokerTimeout how long a call to the brokers may take before the command fails with an
 *     error the client sees
 * @param consumers Kafka consumers (each with a thread of its own) per broker list and credentials;
 *     a partition is always served by the same one, so its fetches follow on without seeking
 * @param maxInFlight commands of one session being served at once; past it the session's socket is
 *     not read, so a client that floods is slowed down, not buffered
 * @param idleTimeout a session with no command for this long is closed (1000, "idle")
 */
public record PubSubSettings(
    int maxFrameBytes,
    int maxFetchBytes,
    Duration fetchWait,
    Duration brokerTimeout,
    int consumers,
    int maxInFlight,
    Duration idleTimeout) {

  public static final PubSubSettings DEFAULTS =
      new PubSubSettings(
          64 * 1024,
          4 * 1024 * 1024,
          Duration.ofMillis(100),
          Duration.ofSeconds(5),
          2,
          32,
          Duration.ofMinutes(5));

  public PubSubSettings withMaxFrameBytes(int v) {
    return new PubSubSettings(
        v, maxFetchBytes, fetchWait, brokerTimeout, consumers, maxInFlight, idleTimeout);
  }

  public PubSubSettings withMaxFetchBytes(int v) {
    return new PubSubSettings(
        maxFrameBytes, v, fetchWait, brokerTimeout, consumers, maxInFlight, idleTimeout);
  }

  public PubSubSettings withFetchWait(Duration v) {
    return new PubSubSettings(
        maxFrameBytes, maxFetchBytes, v, brokerTimeout, consumers, maxInFlight, idleTimeout);
  }

  public PubSubSettings withBrokerTimeout(Duration v) {
    return new PubSubSettings(
        maxFrameBytes, maxFetchBytes, fetchWait, v, consumers, maxInFlight, idleTimeout);
  }

  public PubSubSettings withConsumers(int v) {
    return new PubSubSettings(
        maxFrameBytes, maxFetchBytes, fetchWait, brokerTimeout, v, maxInFlight, idleTimeout);
  }

  public PubSubSettings withMaxInFlight(int v) {
    return new PubSubSettings(
        maxFrameBytes, maxFetchBytes, fetchWait, brokerTimeout, consumers, v, idleTimeout);
  }

  public PubSubSettings withIdleTimeout(Duration v) {
    return new PubSubSettings(
        maxFrameBytes, maxFetchBytes, fetchWait, brokerTimeout, consumers, maxInFlight, v);
  }
}
