package io.archway.e2e.chaos;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.etcd.jetcd.Client;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A dataplane process fed straight from a real etcd, for the chaos scenarios that change config
 * faster than a Kubernetes API server would: the keys are those the operator writes (APISIX's
 * layout under {@code /apisix}), written with an etcd client as the operator's sink does ({@code
 * OperatorToDataplaneE2E} covers the operator's side of that path). The dataplane is the runnable
 * jar, started as users start it, serving HTTP on {@link #httpPort()}.
 */
final class EtcdDataplane implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(60);

  /** How long each scenario keeps its fault on: {@code -Darchway.chaos.seconds}. */
  static long seconds() {
    return Long.getLong("archway.chaos.seconds", 10);
  }

  /** How many routes the full re-apply writes: {@code -Darchway.chaos.routes}. */
  static int routes() {
    return Integer.getInteger("archway.chaos.routes", 300);
  }

  private final EtcdServer etcd = new EtcdServer().start();
  private final Client client = Client.builder().endpoints(etcd.endpoint()).build();
  private final HttpClient http = HttpClient.newHttpClient();
  private final int httpPort = Ports.free();
  private final int statusPort = Ports.free();
  private Process dataplane;

  private EtcdDataplane() {}

  /** Starts etcd and the dataplane; returns once the dataplane is ready. */
  static EtcdDataplane start(Path dir) throws Exception {
    return start(dir, List.of());
  }

  /**
   * Starts etcd and the dataplane with more command-line options (for example {@code
   * --stream-port}); returns once the dataplane is ready.
   */
  static EtcdDataplane start(Path dir, List<String> moreArgs) throws Exception {
    var s = new EtcdDataplane();
    try {
      s.dataplane =
          DataplaneJar.start(
              dir.resolve("dataplane.log"),
              s.etcd.endpoint(),
              s.httpPort,
              s.statusPort,
              s.http,
              moreArgs);
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  int httpPort() {
    return httpPort;
  }

  /** The dataplane's URL of this path. */
  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /** A GET of that path on the dataplane's HTTP port. */
  HttpResponse<String> get(String path) throws Exception {
    return get(httpPort, path);
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return DataplaneJar.get(http, port, path);
  }

  /** Writes {@code /apisix/KEY} (for example {@code routes/1}) and waits for etcd's answer. */
  void put(String key, String json) throws Exception {
    EtcdKeys.put(client, key, json);
  }

  /**
   * Writes every key, at most {@code inFlight} writes at a time, as a controller re-applying all
   * its objects does; returns once etcd has answered them all.
   */
  void putAll(Map<String, String> keys, int inFlight) throws Exception {
    EtcdKeys.putAll(client, keys, inFlight);
  }

  /** Stops what it started: the dataplane by its own handle, the client, etcd. */
  @Override
  public void close() {
    try {
      if (dataplane != null) {
        JarProcess.stop(dataplane);
      }
    } finally {
      client.close();
      http.close();
      etcd.close();
    }
  }

  /** A GET of that path on the dataplane's status port: {@code /metrics}, {@code /readyz}. */
  HttpResponse<String> status(String path) throws Exception {
    return get(statusPort, path);
  }

  /** The dataplane's {@code /metrics} (status port). */
  String metrics() throws Exception {
    return get(statusPort, "/metrics").body();
  }

  /** The dataplane process's id. */
  long pid() {
    return dataplane.pid();
  }
}
