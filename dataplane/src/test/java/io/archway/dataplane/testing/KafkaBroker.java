package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker in KRaft mode (broker and controller in one), started from the Kafka jars on
 * the test class path as a process of its own, on random loopback ports: {@code StorageTool
 * format}, then {@code kafka.Kafka}. {@link #stop()} kills it (a dead broker), {@link #restart()}
 * brings it back on the same ports with its data, {@link #close()} also removes its data. {@link
 * #withSasl} adds a SASL/PLAIN listener beside the plain one.
 */
public final class KafkaBroker implements AutoCloseable {

  private final Path dir;
  private final int port;
  private final int saslPort;
  private Process process;

  private KafkaBroker(Path dir, int port, int saslPort) {
    this.dir = dir;
    this.port = port;
    this.saslPort = saslPort;
  }

  public static KafkaBroker start() throws Exception {
    return start(Map.of());
  }

  /** A broker that also takes SASL/PLAIN clients, with these users and passwords. */
  public static KafkaBroker withSasl(Map<String, String> users) throws Exception {
    return start(users);
  }

  private static KafkaBroker start(Map<String, String> users) throws Exception {
    var dir = Files.createTempDirectory("archway-kafka");
    int port = Ports.free();
    int controller = Ports.free();
    int saslPort = users.isEmpty() ? 0 : Ports.free();
    var listeners = "PLAINTEXT://127.0.0.1:" + port;
    var sasl = new java.util.ArrayList<String>();
    if (!users.isEmpty()) {
      listeners += ",SASL_PLAINTEXT://127.0.0.1:" + saslPort;
      var jaas =
          new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
      users.forEach(
          (u, pw) -> jaas.append(" user_").append(u).append("=\"").append(pw).append('"'));
      sasl.add("sasl.enabled.mechanisms=PLAIN");
      sasl.add("listener.name.sasl_plaintext.plain.sasl.jaas.config=" + jaas + ";");
    }
    var props = dir.resolve("server.properties");
    Files.writeString(
        props,
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controller,
            "listeners=" + listeners + ",CONTROLLER://127.0.0.1:" + controller,
            "advertised.listeners=" + listeners,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map="
                + "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            String.join("\n", sasl),
            "log.dirs=" + dir.resolve("data"),
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            ""));
    var format =
        java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                props.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("format.log").toFile())
            .start();
    if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
      throw new IOException(
          "kafka storage format failed: " + Files.readString(dir.resolve("format.log")));
    }
    var broker = new KafkaBroker(dir, port, saslPort);
    broker.launch();
    return broker;
  }

  private void launch() throws Exception {
    process =
        java("kafka.Kafka", dir.resolve("server.properties").toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()))
            .start();
    awaitReady();
  }

  /** Starts the broker again after {@link #stop()}: same ports, same data. */
  public void restart() throws Exception {
    stop();
    launch();
  }

  private static ProcessBuilder java(String main, String... args) {
    var java = ProcessHandle.current().info().command().orElse("java");
    var cmd =
        new java.util.ArrayList<>(
            List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), main));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd);
  }

  private void awaitReady() throws Exception {
    try (var admin = admin()) {
      await("kafka ready")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new IOException(
                      "kafka exited: " + Files.readString(dir.resolve("broker.log")));
                }
                try {
                  admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                  return true;
                } catch (ExecutionException | TimeoutException e) {
                  return false;
                }
              });
    }
  }

  public Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000));
  }

  /** The broker's process id (a bench reads its CPU time). */
  public long pid() {
    return process.pid();
  }

  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** The SASL/PLAIN listener's address ({@link #withSasl} brokers only). */
  public String saslBootstrap() {
    return "127.0.0.1:" + saslPort;
  }

  /** Creates a topic with {@code partitions} partitions. */
  public void createTopic(String name, int partitions) throws Exception {
    try (var admin = admin()) {
      admin
          .createTopics(
              List.of(new org.apache.kafka.clients.admin.NewTopic(name, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /** Kills the broker: clients then find no one at its address. */
  public void stop() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws Exception {
    stop();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
