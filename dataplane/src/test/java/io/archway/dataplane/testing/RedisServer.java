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
