package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Debian's nginx as a reference reverse proxy, on a loopback port of its own: one process ({@code
 * daemon off; master_process off;}), a generated config, and its pid file, logs and temp files in
 * one directory. Stopped by its process id.
 */
public final class Nginx implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path dir;

  private Nginx(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  /** The {@code nginx} binary: on {@code PATH}, else {@code /usr/sbin/nginx}; {@code null}. */
  public static Path binary() {
    var path = System.getenv("PATH");
    if (path != null) {
      for (var d : path.split(java.io.File.pathSeparator)) {
        var p = Path.of(d, "nginx");
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    var p = Path.of("/usr/sbin/nginx");
    return Files.isExecutable(p) ? p : null;
  }

  /**
   * Starts nginx with {@code serverBlock} (directives inside {@code server { }}, after {@code
   * listen}) and {@code httpBlock} (extra directives inside {@code http { }}, e.g. an {@code
   * upstream}).
   */
  public static Nginx start(Path binary, Path dir, String httpBlock, String serverBlock)
      throws IOException {
    Files.createDirectories(dir);
    int port = Ports.free();
    var conf =
        """
        daemon off;
        master_process off;
        worker_processes 1;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log info;
        events { worker_connections 512; }
        http {
          access_log %1$s/access.log;
          client_body_temp_path %1$s/client_body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
        %2$s
          server {
            listen 127.0.0.1:%3$d;
            server_name _;
        %4$s
          }
        }
        """
            .formatted(dir, httpBlock.indent(2), port, serverBlock.indent(4));
    var file = dir.resolve("nginx.conf");
    Files.writeString(file, conf);
    var process =
        new ProcessBuilder(
                binary.toString(),
                "-p",
                dir.toString(),
                "-e",
                dir.resolve("error.log").toString(),
                "-c",
                file.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("stdout.log").toFile())
            .start();
    var nginx = new Nginx(process, port, dir);
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new IllegalStateException(
                      "nginx exited with "
                          + process.exitValue()
                          + ": "
                          + Files.readString(dir.resolve("stdout.log"))
                          + nginx.errorLog());
                }
                return nginx.accepts();
              });
    } catch (RuntimeException e) {
      nginx.close();
      throw e;
    }
    return nginx;
  }

  public int port() {
    return port;
  }

  /** The error log so far (nginx says there why it rejected a request). */
  public String errorLog() {
    try {
      var f = dir.resolve("error.log");
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private boolean accepts() {
    try (var s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
