package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Several dataplane processes (the runnable jar, as users start it) on one real etcd, for the
 * scenarios that stop, kill and restart dataplanes: each {@link Node} is one process on loopback
 * ports of its own (HTTP, with h2c; status), started and stopped by its own handle. The keys are
 * those the operator writes, in APISIX's layout under {@code /apisix}, as in {@link EtcdDataplane}.
 */
final class Dataplanes implements AutoCloseable {

  /** The drain timeout the dataplanes run with ({@code --shutdown-timeout}). */
  static final Duration DRAIN = Duration.ofSeconds(20);

  /**
   * How long a start may take to be ready: generous, as a JVM's start took close to a minute on 2
   * cores shared with several builds.
   */
  static final Duration READY = Duration.ofMinutes(3);

  private final Path dir;
  private final EtcdServer etcd = new EtcdServer().start();
  private final Client client = Client.builder().endpoints(etcd.endpoint()).build();
  private final List<Node> nodes = new ArrayList<>();

  Dataplanes(Path dir) {
    this.dir = dir;
  }

  /** One dataplane process: its ports stay the same across a restart (a container's restart). */
  final class Node {
    final String name;
    final int httpPort = Ports.free();
    final int statusPort = Ports.free();
    private Process process;
    private int starts;

    private Node(String name) {
      this.name = name;
    }

    /** Starts the process (again, after a kill); returns at once, before it is ready. */
    Node start() throws IOException {
      starts++;
      process =
          JarProcess.start(
              Path.of("../dataplane/target/archway-dataplane.jar"),
              dir.resolve(name + "-" + starts + ".log"),
              List.of(),
              List.of(
                  "--etcd",
                  etcd.endpoint(),
                  "--bind",
                  "127.0.0.1",
                  "--http-port",
                  "" + httpPort,
                  "--https-port",
                  "0",
                  "--h2c",
                  "--admin-port",
                  "off",
                  "--status-port",
                  "" + statusPort,
                  "--shutdown-timeout",
                  "" + DRAIN.toSeconds(),
                  "--access-log",
                  "off"));
      return this;
    }

    Process process() {
      return process;
    }

    /** The status of {@code /readyz}, or -1 when the port does not answer. */
    int readyz() {
      return status(statusPort, "/readyz");
    }

    /** The status of a GET of {@code path} on the HTTP port, or -1 without an answer. */
    int get(String path) {
      return status(httpPort, path, Duration.ofSeconds(5));
    }

    void awaitReady() {
      await().atMost(READY).pollInterval(Duration.ofMillis(50)).until(() -> readyz() == 200);
    }

    /**
     * A few GETs of {@code path}, each given 30 s: a cold JVM's first requests (class loading, the
     * interpreter) took more than the load's 5 s on a machine this busy, so a dataplane is warmed
     * before it joins the Service, as a startup probe that sends traffic would.
     */
    void warmUp(String path) {
      for (int i = 0; i < 16; i++) {
        status(httpPort, path, Duration.ofSeconds(30));
      }
    }

    /** {@code kill -9}: returns once the process is gone. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM (what Kubernetes sends after the preStop hook); the exit code, -1 if it hangs. */
    int terminate(Duration within) throws InterruptedException {
      process.destroy();
      if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        return -1;
      }
      return process.exitValue();
    }

    @Override
    public String toString() {
      return name + " (http " + httpPort + ", status " + statusPort + ")";
    }
  }

  /** A new dataplane, not started. */
  Node node(String name) {
    var n = new Node(name);
    nodes.add(n);
    return n;
  }

  /** Writes {@code /apisix/KEY} and waits for etcd's answer. */
  void put(String key, String json) throws Exception {
    EtcdKeys.put(client, key, json);
  }

  /** Writes every key, at most {@code inFlight} writes at a time. */
  void putAll(Map<String, String> keys, int inFlight) throws Exception {
    EtcdKeys.putAll(client, keys, inFlight);
  }

  /**
   * The status of a GET on a connection of its own ({@code Connection: close}), or -1 when it is
   * refused or no whole answer comes within a second.
   */
  static int status(int port, String path) {
    return status(port, path, Duration.ofSeconds(1));
  }

  /** The same, with at most {@code timeout} to connect and to read. */
  static int status(int port, String path, Duration timeout) {
    int millis = (int) timeout.toMillis();
    try (var socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), millis);
      socket.setSoTimeout(millis);
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      var head = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return head.startsWith("HTTP/1.") && head.contains("\r\n\r\n")
          ? Integer.parseInt(head.substring(9, 12))
          : -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Stops what it started: every process by its own handle, the client, etcd. */
  @Override
  public void close() {
    try {
      JarProcess.stopAll(
          nodes.stream().map(n -> n.process).filter(p -> p != null && p.isAlive()).toList());
    } finally {
      client.close();
      etcd.close();
    }
  }
}
