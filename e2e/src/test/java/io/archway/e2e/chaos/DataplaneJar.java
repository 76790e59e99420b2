package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.JarProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The dataplane's runnable jar as the chaos scenarios start it: fed from etcd, plain HTTP on one
 * port, {@code /readyz} and {@code /metrics} on another, no admin API and no access log.
 */
final class DataplaneJar {

  private DataplaneJar() {}

  /**
   * Starts the jar on {@code etcd} (one URL, or several joined by commas) and returns once {@code
   * /readyz} answers 200 (the caller stops the process if this throws after it started).
   */
  static Process start(Path log, String etcd, int httpPort, int statusPort, HttpClient http)
      throws Exception {
    return start(log, etcd, httpPort, statusPort, http, List.of());
  }

  /** As {@link #start(Path, String, int, int, HttpClient)}, with more command-line options. */
  static Process start(
      Path log, String etcd, int httpPort, int statusPort, HttpClient http, List<String> moreArgs)
      throws Exception {
    var args =
        new ArrayList<>(
            List.of(
                "--etcd",
                etcd,
                "--bind",
                "127.0.0.1",
                "--http-port",
                "" + httpPort,
                "--https-port",
                "0",
                "--admin-port",
                "off",
                "--status-port",
                "" + statusPort,
                "--access-log",
                "off"));
    args.addAll(moreArgs);
    var process =
        JarProcess.start(
            Path.of("../dataplane/target/archway-dataplane.jar"), log, List.of(), args);
    try {
      await()
          .atMost(EtcdDataplane.WAIT)
          .ignoreExceptions()
          .until(() -> get(http, statusPort, "/readyz").statusCode() == 200);
    } catch (Exception | Error e) {
      try {
        JarProcess.stop(process);
      } catch (AssertionError leak) {
        e.addSuppressed(leak);
      }
      throw e;
    }
    return process;
  }

  /** A GET of that path on that loopback port, 5 s at most. */
  static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
