package io.archway.model.testing;

import static org.awaitility.Awaitility.await;

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
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real etcd ({@code etcd} from Debian's {@code etcd-server}, or {@code $ARCHWAY_ETCD}) on random
 * loopback ports in a temp dir. It can be killed, restarted on the same ports and data, and
 * restored from a snapshot, as the config-source tests need. Used by tests and by the benchmarks.
 */
public final class EtcdServer implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final int clientPort;
  private final int peerPort;
  private final int metricsPort;
  private Process process;
  // TLS on the client port, with client certificates required: set before start().
  private Path tlsCert;
  private Path tlsKey;
  private Path clientCa;

  public EtcdServer() {
    try {
      dir = Files.createTempDirectory("archway-etcd-");
      clientPort = Ports.free();
      int p;
      do {
        p = Ports.free();
      } while (p == clientPort);
      peerPort = p;
      int m;
      do {
        m = Ports.free();
      } while (m == clientPort || m == peerPort);
      metricsPort = m;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code http://127.0.0.1:<port>}, or {@code https://} with TLS. */
  public String endpoint() {
    return (tlsCert == null ? "http" : "https") + "://127.0.0.1:" + clientPort;
  }

  /**
   * Serves clients over TLS with this certificate and key, and requires client certificates signed
   * by {@code clientCa} (etcd's {@code --client-cert-auth}). Call before {@link #start()}.
   */
  public EtcdServer withTls(Path cert, Path key, Path clientCa) {
    this.tlsCert = cert;
    this.tlsKey = key;
    this.clientCa = clientCa;
    return this;
  }

  public int clientPort() {
    return clientPort;
  }

  public Path dataDir() {
    return dir.resolve("data");
  }

  public synchronized EtcdServer start() {
    if (process != null && process.isAlive()) {
      return this;
    }
    var cmd = new ArrayList<>(List.of(binary("etcd", "ARCHWAY_ETCD")));
    cmd.addAll(
        List.of(
            "--name",
            "default",
            "--data-dir",
            dataDir().toString(),
            "--listen-client-urls",
            endpoint(),
            "--advertise-client-urls",
            endpoint(),
            "--listen-peer-urls",
            peerUrl(),
            "--initial-advertise-peer-urls",
            peerUrl(),
            "--initial-cluster",
            "default=" + peerUrl(),
            "--listen-metrics-urls",
            "http://127.0.0.1:" + metricsPort,
            "--log-level",
            "warn",
            "--logger",
            "zap"));
    if (tlsCert != null) {
      cmd.addAll(
          List.of(
              "--cert-file",
              tlsCert.toString(),
              "--key-file",
              tlsKey.toString(),
              "--trusted-ca-file",
              clientCa.toString(),
              "--client-cert-auth"));
    }
    try {
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("etcd.log").toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start etcd (install Debian's etcd-server, or set ARCHWAY_ETCD)", e);
    }
    awaitHealthy();
    return this;
  }

  /** SIGKILL: the server dies with no chance to say goodbye, as in a node crash. */
  public synchronized void kill() {
    if (process != null) {
      process.destroyForcibly();
      waitFor(process);
      process = null;
    }
  }

  /**
   * SIGSTOP: the server stops answering (connections stay open, requests hang), as a node frozen by
   * a long pause; {@link #resume()} lets it go on where it was.
   */
  public synchronized void pause() {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  public synchronized void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    try {
      var p = new ProcessBuilder("kill", "-" + name, "" + process.pid()).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Saves a snapshot of the current data with etcdctl. */
  public Path snapshot() {
    var file = dir.resolve("snapshot-" + System.nanoTime() + ".db");
    run(
        binary("etcdctl", "ARCHWAY_ETCDCTL"),
        "--endpoints",
        endpoint(),
        "snapshot",
        "save",
        file.toString());
    return file;
  }

  /**
   * Stops etcd, replaces its data with {@code snapshot} (an operator's disaster recovery) and
   * starts it again: its revision goes back to the snapshot's.
   */
  public synchronized void restore(Path snapshot) {
    kill();
    deleteRecursively(dataDir());
    run(
        binary("etcdctl", "ARCHWAY_ETCDCTL"),
        "snapshot",
        "restore",
        snapshot.toString(),
        "--data-dir",
        dataDir().toString(),
        "--name",
        "default",
        "--initial-cluster",
        "default=" + peerUrl(),
        "--initial-advertise-peer-urls",
        peerUrl());
    start();
  }

  @Override
  public synchronized void close() {
    kill();
    deleteRecursively(dir);
  }

  private String peerUrl() {
    return "http://127.0.0.1:" + peerPort;
  }

  private void awaitHealthy() {
    var http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    await("etcd healthy")
        .atMost(START_TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException(
                    "etcd exited at start; see " + dir.resolve("etcd.log"));
              }
              try {
                var res =
                    http.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + metricsPort + "/health"))
                            .timeout(Duration.ofSeconds(1))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                return res.statusCode() == 200 && res.body().contains("true");
              } catch (IOException e) {
                return false; // not listening yet
              }
            });
  }

  private void run(String... cmd) {
    runTool(dir.resolve("etcdctl.log"), cmd);
  }

  /** An etcd tool's path: {@code $ENV} if set, else {@code name} on the PATH. */
  public static String binary(String name, String env) {
    var fromEnv = System.getenv(env);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    for (var d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      var p = Path.of(d, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return "/usr/bin/" + name;
  }

  private static void waitFor(Process p) {
    try {
      p.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static void deleteRecursively(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs an etcd tool ({@code etcdctl}, API v3) to its end, its output appended to {@code log};
   * throws if it fails or takes more than a minute.
   */
  public static void runTool(Path log, String... cmd) {
    try {
      var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("ETCDCTL_API", "3");
      var p = pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " failed; see " + log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
