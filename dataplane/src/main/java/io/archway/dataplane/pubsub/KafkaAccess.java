package io.archway.dataplane.pubsub;

import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * How to reach one Kafka cluster: its brokers (a route's upstream nodes), TLS (the upstream's
 * {@code tls}) and SASL/PLAIN credentials (the route's {@code kafka-proxy} plugin). Routes that
 * name the same share their consumers.
 *
 * @param verify with TLS, whether the brokers' certificates are checked against the JVM's trusted
 *     authorities (APISIX's {@code tls.verify}, off by default)
 * @param username SASL/PLAIN user, or {@code null} for none
 */
record KafkaAccess(
    List<String> brokers, boolean tls, boolean verify, String username, String password) {

  KafkaAccess {
    brokers = List.copyOf(brokers);
  }

  /** The consumer settings: no group (partitions are assigned), nothing committed or created. */
  Properties consumerProperties(PubSubSettings settings, String clientId) {
    var p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, String.join(",", brokers));
    p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) settings.fetchWait().toMillis());
    // A broker fetch brings up to one answer's worth from the partition, as a kafka-clients
    // consumer configured with the same size fetches (and as APISIX answers a fetch with one
    // broker fetch); the thread reads ahead while the session handles the last answer.
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, settings.maxFetchBytes());
    p.put(
        ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
        Math.max(settings.maxFetchBytes(), ConsumerConfig.DEFAULT_FETCH_MAX_BYTES));
    p.put(CommonClientConfigs.RECEIVE_BUFFER_CONFIG, -1);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100_000);
    int timeout = (int) settings.brokerTimeout().toMillis();
    p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, timeout);
    p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout);
    p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
    p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, timeout);
    p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, timeout);
    boolean sasl = username != null;
    p.put(
        CommonClientConfigs.SECURITY_PROTOCOL_CONFIG,
        tls ? (sasl ? "SASL_SSL" : "SSL") : (sasl ? "SASL_PLAINTEXT" : "PLAINTEXT"));
    if (sasl) {
      p.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
      p.put(
          SaslConfigs.SASL_JAAS_CONFIG,
          "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
              + jaas(username)
              + "\" password=\""
              + jaas(password)
              + "\";");
    }
    if (tls && !verify) {
      p.put(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG, "");
      p.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, TrustingSslEngineFactory.class);
    }
    return p;
  }

  private static String jaas(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** Never shows the password (it reaches logs through errors). */
  @Override
  public String toString() {
    return "kafka "
        + String.join(",", brokers)
        + (tls ? " tls" + (verify ? "" : " (unverified)") : "")
        + (username == null ? "" : " sasl user " + username);
  }
}
