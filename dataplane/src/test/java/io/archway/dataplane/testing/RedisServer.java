package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real {@code redis-server} on a loopback port of its own, without persistence, {@code DEBUG}
 * allowed from loopback.
 */
public final class RedisServer implements AutoCloseable {

  private final Process process;
  private final int port;
  private final String password;

  public RedisServer(Path dir) throws IOException {
    this(dir, Ports.free());
  }

  public RedisServer(Path dir, int port) throws IOException {
    this(dir, port, new String[0]);
  }

  /** With more options, such as {@code "--requirepass", "secret"}. */
  public RedisServer(Path dir, int port, String... options) throws IOException {
    this.port = port;
    var command =
        new java.util.ArrayList<>(
            java.util.List.of(
                "redis-server",
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString(),
                // DEBUG SLEEP holds the server still for tests of links lost mid-command.
                "--enable-debug-command",
                "local"));
    command.addAll(java.util.List.of(options));
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis-" + port + ".log").toFile())
            .start();
    password = passwordIn(options);
    await().atMost(Duration.ofSeconds(10)).until(this::answers);
  }

  public int port() {
    return port;
  }

  /**
   * Skips the calling test when {@code redis-server} (or {@code redis-cli}, which builds clusters)
   * is not on the {@code PATH}.
   */
  public static void assumeInstalled() {
    var path = System.getenv().getOrDefault("PATH", "");
    for (var tool : java.util.List.of("redis-server", "redis-cli")) {
      boolean found =
          java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
              .anyMatch(d -> !d.isEmpty() && java.nio.file.Files.isExecutable(Path.of(d, tool)));
      org.junit.jupiter.api.Assumptions.assumeTrue(found, tool + " is not installed");
    }
  }

  /**
   * One command on a connection of its own; the reply as text: a status or an error line ({@code
   * -ERR ...}), an integer, a bulk string ({@code null} for a nil one), or an array's items one a
   * line.
   */
  public String call(String... args) throws IOException {
    try (var s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      var out = new java.io.ByteArrayOutputStream();
      if (password != null) {
        resp(out, "AUTH", password);
      }
      resp(out, args);
      s.getOutputStream().write(out.toByteArray());
      var in = new java.io.BufferedInputStream(s.getInputStream());
      if (password != null) {
        reply(in);
      }
      return reply(in);
    }
  }

  private static void resp(java.io.ByteArrayOutputStream out, String... args) {
    var b = new StringBuilder("*").append(args.length).append("\r\n");
    for (var a : args) {
      b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
      b.append(a).append("\r\n");
    }
    out.writeBytes(b.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    var b = new java.io.ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed mid-reply");
      }
      b.write(c);
    }
    var l = b.toString(StandardCharsets.UTF_8);
    return l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
  }

  private static String reply(InputStream in) throws IOException {
    var l = line(in);
    switch (l.charAt(0)) {
      case '$' -> {
        int n = Integer.parseInt(l.substring(1));
        if (n < 0) {
          return null;
        }
        var body = in.readNBytes(n + 2);
        return new String(body, 0, n, StandardCharsets.UTF_8);
      }
      case '*' -> {
        int n = Integer.parseInt(l.substring(1));
        var items = new java.util.ArrayList<String>();
        for (int i = 0; i < n; i++) {
          items.add(reply(in));
        }
        return String.join("\n", items);
      }
      case '-' -> {
        return l;
      }
      default -> {
        return l.substring(1);
      }
    }
  }

  public String node() {
    return "127.0.0.1:" + port;
  }

  private static String passwordIn(String[] options) {
    for (int i = 0; i + 1 < options.length; i++) {
      if (options[i].equals("--requirepass")) {
        return options[i + 1];
      }
    }
    return null;
  }

  private boolean answers() {
    try (var s = new Socket("127.0.0.1", port)) {
      OutputStream out = s.getOutputStream();
      if (password != null) {
        out.write(("AUTH " + password + "\r\n").getBytes(StandardCharsets.US_ASCII));
        var ok = s.getInputStream().readNBytes(5);
        if (!new String(ok, StandardCharsets.US_ASCII).equals("+OK\r\n")) {
          return false;
        }
      }
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      var buf = new byte[7];
      return in.readNBytes(buf, 0, 7) == 7
          && new String(buf, StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * SIGKILL: the server dies at once, as in a crash or an OOM kill; the kernel closes its
   * connections (a reset where it left bytes unread, else a plain close).
   */
  public void kill() {
    try {
      process.destroyForcibly().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      // A server busy in a script ignores SIGTERM until the script ends: then it is killed.
      if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
