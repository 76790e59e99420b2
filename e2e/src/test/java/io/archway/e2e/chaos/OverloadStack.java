package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * The overload scenarios' stack: one HTTP backend on loopback and the dataplane's runnable jar as a
 * process in standalone mode (its routes do not change here, so no etcd), started with the JVM and
 * dataplane options a scenario chooses. The backend answers {@code /good} with a few bytes, {@code
 * /big} with {@link #BIG} bytes (what a slow reader leaves unread), and {@code /upload} by reading
 * the whole body. The process's resident memory and open file descriptors are read from {@code
 * /proc}, for the soak.
 */
final class OverloadStack implements AutoCloseable {

  static final int BIG = 8 << 20;
  private static final byte[] CHUNK = new byte[64 * 1024];

  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer backend;
  private final HttpClient http = HttpClient.newHttpClient();
  private final int httpPort = Ports.free();
  private final int statusPort = Ports.free();
  private Process dataplane;

  private OverloadStack() throws IOException {
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    backend.setExecutor(threads);
    backend.createContext(
        "/good",
        ex -> {
          var body = "good\n".getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    backend.createContext(
        "/big",
        ex -> {
          ex.sendResponseHeaders(200, BIG);
          try (OutputStream out = ex.getResponseBody()) {
            for (int sent = 0; sent < BIG; sent += CHUNK.length) {
              out.write(CHUNK);
            }
          } catch (IOException e) {
            // the dataplane gave up on a reader that never read: expected
          }
        });
    backend.createContext(
        "/upload",
        ex -> {
          long n = ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
          var body = (n + "\n").getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    backend.start();
  }

  /**
   * Starts the backend and the dataplane with these JVM options, {@code --config} file contents
   * (empty: none) and extra command-line options; returns once {@code /readyz} says ready.
   */
  static OverloadStack start(Path dir, List<String> jvm, String config, List<String> options)
      throws Exception {
    var s = new OverloadStack();
    try {
      var routes = dir.resolve("apisix.yaml");
      Files.writeString(
          routes,
          """
          routes:
            - id: all
              uri: /*
              upstream:
                nodes:
                  "127.0.0.1:%d": 1
          #END
          """
              .formatted(s.backend.getAddress().getPort()));
      var args = new ArrayList<String>();
      args.addAll(
          List.of(
              "--standalone",
              routes.toString(),
              "--bind",
              "127.0.0.1",
              "--http-port",
              "" + s.httpPort,
              "--https-port",
              "0",
              "--admin-port",
              "off",
              "--status-port",
              "" + s.statusPort,
              "--access-log",
              "off"));
      if (!config.isEmpty()) {
        var file = dir.resolve("dataplane.yaml");
        Files.writeString(file, config);
        args.add("--config");
        args.add(file.toString());
      }
      args.addAll(options);
      s.dataplane =
          JarProcess.start(
              Path.of("../dataplane/target/archway-dataplane.jar"),
              dir.resolve("dataplane.log"),
              jvm,
              args);
      await()
          .atMost(EtcdDataplane.WAIT)
          .ignoreExceptions()
          .until(() -> s.status("/readyz").statusCode() == 200);
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  int httpPort() {
    return httpPort;
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  HttpResponse<String> status(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statusPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A metric's value from {@code /metrics} (the first line that starts with {@code name}). */
  double metric(String name) throws Exception {
    for (var line : status("/metrics").body().split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1));
      }
    }
    throw new AssertionError("no metric " + name);
  }

  /** The dataplane's resident memory in kB ({@code VmRSS} in {@code /proc/PID/status}). */
  long rssKb() throws IOException {
    for (var line : Files.readAllLines(Path.of("/proc", "" + dataplane.pid(), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.substring(6).strip().split("\\s+")[0]);
      }
    }
    throw new IOException("no VmRSS for " + dataplane.pid());
  }

  /** The dataplane's open file descriptors ({@code /proc/PID/fd}). */
  long fds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc", "" + dataplane.pid(), "fd"))) {
      return fds.count();
    }
  }

  /** Stops what it started: the dataplane by its own handle, then the backend. */
  @Override
  public void close() {
    try {
      if (dataplane != null) {
        JarProcess.stop(dataplane);
      }
    } finally {
      http.close();
      backend.stop(0);
      threads.shutdownNow();
    }
  }
}
