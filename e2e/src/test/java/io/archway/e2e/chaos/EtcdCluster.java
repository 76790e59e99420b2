package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A real etcd cluster of three members ({@code etcd} from Debian's {@code etcd-server}, or {@code
 * $ARCHWAY_ETCD}), each on its own random loopback ports and data dir in a temp dir. A member can
 * be killed (SIGKILL by its PID, as in a node crash) and started again on the same ports and data;
 * the whole cluster can be restored from a snapshot into new data dirs, as an operator's disaster
 * recovery does ({@code etcdctl snapshot restore}, one data dir per member).
 */
final class EtcdCluster implements AutoCloseable {

  static final int SIZE = 3;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final String token = "archway-chaos-" + System.nanoTime();
  private final int[] clientPorts = new int[SIZE];
  private final int[] peerPorts = new int[SIZE];
  private final int[] metricsPorts = new int[SIZE];
  private final Process[] processes = new Process[SIZE];
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
  // Restores write new data dirs: generation n's dir of member i is m<i>-data-<n>.
  private int generation;

  /** Three members, not started: see {@link #start()}. */
  EtcdCluster() {
    try {
      dir = Files.createTempDirectory("archway-etcd-cluster-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Set<Integer> taken = new HashSet<>();
    for (int i = 0; i < SIZE; i++) {
      clientPorts[i] = distinctPort(taken);
      peerPorts[i] = distinctPort(taken);
      metricsPorts[i] = distinctPort(taken);
    }
  }

  private static int distinctPort(Set<Integer> taken) {
    int p;
    do {
      p = Ports.free();
    } while (!taken.add(p));
    return p;
  }

  /** Every member's client URL, in member order. */
  List<String> endpoints() {
    return IntStream.range(0, SIZE).mapToObj(this::endpoint).toList();
  }

  String endpoint(int member) {
    return "http://127.0.0.1:" + clientPorts[member];
  }

  int clientPort(int member) {
    return clientPorts[member];
  }

  /** Starts every member that is not running, then waits until each has a leader. */
  synchronized EtcdCluster start() {
    for (int i = 0; i < SIZE; i++) {
      launch(i);
    }
    for (int i = 0; i < SIZE; i++) {
      awaitHealthy(i);
    }
    return this;
  }

  /** Starts this member again if it is not running (no wait: it may have no quorum alone). */
  synchronized void launch(int member) {
    if (processes[member] != null && processes[member].isAlive()) {
      return;
    }
    var cmd =
        List.of(
            EtcdServer.binary("etcd", "ARCHWAY_ETCD"),
            "--name",
            name(member),
            "--data-dir",
            dataDir(member).toString(),
            "--listen-client-urls",
            endpoint(member),
            "--advertise-client-urls",
            endpoint(member),
            "--listen-peer-urls",
            peerUrl(member),
            "--initial-advertise-peer-urls",
            peerUrl(member),
            "--initial-cluster",
            initialCluster(),
            "--initial-cluster-token",
            token,
            "--initial-cluster-state",
            "new",
            "--listen-metrics-urls",
            "http://127.0.0.1:" + metricsPorts[member],
            "--log-level",
            "warn",
            "--logger",
            "zap");
    try {
      processes[member] =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(dir.resolve(name(member) + ".log").toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start etcd (install Debian's etcd-server, or set ARCHWAY_ETCD)", e);
    }
  }

  /** SIGKILL to this member's PID: it dies with no chance to say goodbye, as in a node crash. */
  synchronized void kill(int member) {
    var p = processes[member];
    if (p != null) {
      ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
      try {
        p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      processes[member] = null;
    }
  }

  /** Kills every member. */
  synchronized void killAll() {
    for (int i = 0; i < SIZE; i++) {
      kill(i);
    }
  }

  boolean running(int member) {
    var p = processes[member];
    return p != null && p.isAlive();
  }

  /** The member that is the leader now (its {@code etcd_server_is_leader} metric is 1). */
  int leader() {
    return await("an etcd leader")
        .atMost(START_TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              for (int i = 0; i < SIZE; i++) {
                if (running(i)
                    && get(i, "/metrics").lines().anyMatch("etcd_server_is_leader 1"::equals)) {
                  return i;
                }
              }
              return -1;
            },
            i -> i >= 0);
  }

  /** Saves a snapshot of the current data with etcdctl, from this member. */
  Path snapshot(int member) {
    var file = dir.resolve("snapshot-" + System.nanoTime() + ".db");
    run(
        EtcdServer.binary("etcdctl", "ARCHWAY_ETCDCTL"),
        "--endpoints",
        endpoint(member),
        "snapshot",
        "save",
        file.toString());
    return file;
  }

  /**
   * Kills every member, restores {@code snapshot} into a new data dir for each (as an operator's
   * disaster recovery does), and starts the cluster from them: its revision goes back to the
   * snapshot's. Returns once every member has a leader.
   */
  synchronized void restore(Path snapshot) {
    killAll();
    generation++;
    for (int i = 0; i < SIZE; i++) {
      run(
          EtcdServer.binary("etcdctl", "ARCHWAY_ETCDCTL"),
          "snapshot",
          "restore",
          snapshot.toString(),
          "--data-dir",
          dataDir(i).toString(),
          "--name",
          name(i),
          "--initial-cluster",
          initialCluster(),
          "--initial-cluster-token",
          token,
          "--initial-advertise-peer-urls",
          peerUrl(i));
    }
    start();
  }

  @Override
  public synchronized void close() {
    killAll();
    http.close();
    EtcdServer.deleteRecursively(dir);
  }

  private String name(int member) {
    return "m" + member;
  }

  private void run(String... cmd) {
    EtcdServer.runTool(dir.resolve("etcdctl.log"), cmd);
  }

  private Path dataDir(int member) {
    return dir.resolve(name(member) + "-data-" + generation);
  }

  private String peerUrl(int member) {
    return "http://127.0.0.1:" + peerPorts[member];
  }

  private String initialCluster() {
    var parts = new ArrayList<String>();
    for (int i = 0; i < SIZE; i++) {
      parts.add(name(i) + "=" + peerUrl(i));
    }
    return String.join(",", parts);
  }

  private String get(int member, String path) throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPorts[member] + path))
                .timeout(Duration.ofSeconds(2))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** Waits until this member says it is healthy: it is up and has a leader. */
  private void awaitHealthy(int member) {
    await("etcd member " + name(member) + " healthy")
        .atMost(START_TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              var p = processes[member];
              if (p == null || !p.isAlive()) {
                throw new IllegalStateException(
                    "etcd member "
                        + name(member)
                        + " exited; see "
                        + dir.resolve(name(member) + ".log"));
              }
              try {
                return get(member, "/health").contains("\"health\":\"true\"");
              } catch (IOException e) {
                return false; // not listening yet
              }
            });
  }
}
