package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * kafka-logger: each request's log entry, batched off the event loop, produced to {@code
 * kafka_topic} on {@code brokers} with kafka-clients ({@code required_acks}, {@code key}, {@code
 * timeout}; SASL/PLAIN from a broker's {@code sasl_config}). A dead broker costs dropped entries
 * (counted), never request time.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class KafkaLoggerPlugin implements Plugin<KafkaLoggerPlugin.Config> {

  /** The configuration; schema {@code kafka-logger.json}. */
  public record Config(
      List<Broker> brokers,
      ObjectNode brokerList,
      String kafkaTopic,
      String key,
      double timeout,
      String metaFormat,
      int requiredAcks,
      String producerType,
      String clusterName,
      Integer producerBatchNum,
      Integer producerBatchSize,
      Integer producerMaxBuffering,
      Integer producerTimeLinger,
      Integer metaRefreshInterval,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay,
      boolean includeReqBody,
      ArrayNode includeReqBodyExpr,
      ObjectNode logFormat) {}

  /** A broker, with its SASL credentials. */
  public record Broker(String host, int port, Sasl saslConfig) {}

  /** SASL/PLAIN credentials. */
  public record Sasl(String mechanism, String user, String password) {
    @Override
    public String toString() {
      return "Sasl[user=" + user + "]";
    }
  }

  @Override
  public String name() {
    return "kafka-logger";
  }

  @Override
  public int priority() {
    return 403;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.LOG);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var servers = new TreeSet<String>();
    String user = null;
    String password = null;
    if (conf.brokers() != null) {
      for (var b : conf.brokers()) {
        servers.add(b.host() + ":" + b.port());
        if (b.saslConfig() != null) {
          user = b.saslConfig().user();
          password = b.saslConfig().password();
        }
      }
    }
    var list = conf.brokerList();
    if (list != null) {
      list.properties().forEach(e -> servers.add(e.getKey() + ":" + e.getValue().asInt()));
    }
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("brokers: missing (expected: at least one {host, port})");
    }
    var topic = conf.kafkaTopic();
    var key = conf.key();
    long timeoutMillis = (long) (conf.timeout() * 1000);
    var props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", servers));
    props.put(ProducerConfig.ACKS_CONFIG, Integer.toString(conf.requiredAcks()));
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeoutMillis));
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeoutMillis);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeoutMillis * 2);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "archway-kafka-logger");
    if (user != null) {
      props.put("security.protocol", "SASL_PLAINTEXT");
      props.put("sasl.mechanism", "PLAIN");
      props.put(
          "sasl.jaas.config",
          "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
              + user
              + "\" password=\""
              + password
              + "\";");
    }
    var services = scope.services();
    var producerKey = props.toString();
    byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    LogBatcher.Sender sender =
        batch -> {
          var producer = services.kafka(producerKey, props);
          var sent = new ArrayList<Future<RecordMetadata>>(batch.size());
          for (var e : batch) {
            var f = producer.send(new ProducerRecord<>(topic, keyBytes, e));
            if (f.isDone()) {
              // Failed at once, after max.block.ms without the topic's metadata (a broker that
              // is gone): the rest of the batch would wait as long again, each entry in turn.
              f.get();
            }
            sent.add(f);
          }
          for (var f : sent) {
            f.get(timeoutMillis * 2, TimeUnit.MILLISECONDS);
          }
        };
    var batcher =
        new LogBatcher(
            "kafka-logger",
            LogEntries.settings(
                conf.batchMaxSize(),
                conf.inactiveTimeout(),
                conf.maxRetryCount(),
                conf.retryDelay()),
            sender,
            services);
    return LogEntries.batched(
        LogEntries.builder(
            name(),
            conf.logFormat(),
            conf.includeReqBody(),
            conf.includeReqBodyExpr(),
            false,
            null,
            services),
        batcher);
  }
}
