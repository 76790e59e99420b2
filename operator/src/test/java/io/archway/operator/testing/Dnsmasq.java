package io.archway.operator.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for tests: Debian's {@code dnsmasq} on a random loopback port, answering from a
 * hosts directory in a temp dir (re-read by dnsmasq when a file changes) and from the SRV records
 * given at start, with the TTL given. Stopped by its PID.
 */
public final class Dnsmasq implements AutoCloseable {

  private final Path dir;
  private final List<String> srv;
  private final int ttl;
  private int port;
  private Process process;

  /**
   * @param srv SRV records as dnsmasq's {@code --srv-host} takes them: {@code
   *     _name._tcp.domain,target,port,priority,weight}
   */
  public Dnsmasq(int ttlSeconds, String... srv) throws IOException {
    this.dir = Files.createTempDirectory("archway-dnsmasq");
    Files.createDirectories(dir.resolve("hosts"));
    this.srv = List.of(srv);
    this.ttl = ttlSeconds;
    start();
  }

  /**
   * Starts (again, on the same port after {@link #stop}) and returns once dnsmasq listens. The port
   * is picked free for UDP and TCP alike (dnsmasq binds both): a port free for UDP alone may be the
   * local port of some TCP connection, and dnsmasq then exits at once. If the port was taken all
   * the same before dnsmasq bound it, a first start picks another; a restart waits for its own.
   */
  public void start() throws IOException {
    boolean first = port == 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      if (port == 0) {
        port = freeUdpAndTcpPort();
      }
      if (launch()) {
        return;
      }
      var out = Files.readString(dir.resolve("dnsmasq.out"));
      if (System.nanoTime() > deadline || !out.contains("in use")) {
        throw new IOException("dnsmasq did not start on port " + port + ": " + out.strip());
      }
      if (first) {
        port = 0;
      } else {
        // another process holds the port for now: try again shortly
        await().pollDelay(Duration.ofMillis(200)).until(() -> true);
      }
    }
  }

  /** Runs dnsmasq on {@link #port}; false when it exited before listening. */
  private boolean launch() throws IOException {
    var cmd = new ArrayList<String>();
    cmd.addAll(
        List.of(
            binary(),
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            "--no-poll",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--port=" + port,
            "--hostsdir=" + dir.resolve("hosts"),
            "--local-ttl=" + ttl,
            "--auth-ttl=" + ttl,
            "--pid-file=" + dir.resolve("dnsmasq.pid"),
            "--user=" + System.getProperty("user.name"),
            "--log-facility=" + dir.resolve("dnsmasq.log")));
    srv.forEach(s -> cmd.add("--srv-host=" + s));
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("dnsmasq.out").toFile())
            .start();
    // dnsmasq binds its UDP and TCP sockets together before it serves: a TCP connect that goes
    // through means it listens; an exit means it could not.
    var started = process;
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> !started.isAlive() || listening());
    if (started.isAlive()) {
      return true;
    }
    process = null;
    return false;
  }

  private boolean listening() {
    try (var probe = new Socket()) {
      probe.connect(address(), 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  private static int freeUdpAndTcpPort() throws IOException {
    while (true) {
      try (var udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
          var tcp = new ServerSocket()) {
        tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), udp.getLocalPort()));
        return udp.getLocalPort();
      } catch (BindException takenForTcp) {
        // try another
      }
    }
  }

  private static String binary() {
    for (var p : List.of("/usr/sbin/dnsmasq", "/usr/bin/dnsmasq")) {
      if (Files.isExecutable(Path.of(p))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "dnsmasq is not installed (apt-get install dnsmasq-base; .ci/run installs it)");
  }

  public InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", port);
  }

  /** Writes the hosts file {@code name} ({@code address name} lines); dnsmasq reads it anew. */
  public void hosts(String file, String lines) throws IOException {
    var tmp = dir.resolve(file + ".tmp");
    Files.writeString(tmp, lines);
    Files.move(
        tmp,
        dir.resolve("hosts").resolve(file),
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** Stops the server (by its PID), keeping its files and port. */
  public void stop() throws InterruptedException {
    if (process != null) {
      process.destroy();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      process = null;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
