package io.archway.operator.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /** Starts (again, on the same port after {@link #stop}). */
  public void start() throws IOException {
    if (port == 0) {
      try (var s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
    }
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
