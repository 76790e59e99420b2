package io.archway.e2e.chaos;

import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The dataplane's runnable jar as a process, given several etcd endpoints ({@code --etcd
 * URL,URL,URL}), for the scenarios where etcd itself fails ({@link EtcdCluster}). The test writes
 * the config with its own etcd client, on every member straight (not through whatever the dataplane
 * reaches etcd by), in the layout the operator writes under {@code /apisix}.
 */
final class ClusterDataplane implements AutoCloseable {

  private final Client client;
  private final HttpClient http = HttpClient.newHttpClient();
  private final int httpPort = Ports.free();
  private final int statusPort = Ports.free();
  private final Path log;
  private Process dataplane;

  private ClusterDataplane(List<String> writeEndpoints, Path log) {
    this.client = Client.builder().endpoints(writeEndpoints.toArray(String[]::new)).build();
    this.log = log;
  }

  /**
   * Starts the dataplane on {@code endpoints} (what it is given as {@code --etcd}) and returns once
   * it is ready; the test writes through {@code writeEndpoints}.
   */
  static ClusterDataplane start(Path dir, List<String> endpoints, List<String> writeEndpoints)
      throws Exception {
    var s = new ClusterDataplane(writeEndpoints, dir.resolve("dataplane.log"));
    try {
      s.dataplane =
          DataplaneJar.start(s.log, String.join(",", endpoints), s.httpPort, s.statusPort, s.http);
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** The dataplane's log file. */
  Path log() {
    return log;
  }

  /** The dataplane's URL of this path. */
  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /** A GET of that path on the dataplane's HTTP port. */
  HttpResponse<String> get(String path) throws Exception {
    return get(httpPort, path);
  }

  /** A GET of that path on the status port ({@code /readyz}, {@code /metrics}). */
  HttpResponse<String> status(String path) throws Exception {
    return get(statusPort, path);
  }

  /** The value of a metric without labels, from {@code /metrics}. */
  long metric(String name) throws Exception {
    return status("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1).trim()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name));
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return DataplaneJar.get(http, port, path);
  }

  /** Writes {@code /apisix/KEY} (for example {@code routes/1}) and waits for etcd's answer. */
  void put(String key, String json) throws Exception {
    client.getKVClient().put(bytes("/apisix/" + key), bytes(json)).get(10, TimeUnit.SECONDS);
  }

  /** Deletes {@code /apisix/KEY}. */
  void delete(String key) throws Exception {
    client.getKVClient().delete(bytes("/apisix/" + key)).get(10, TimeUnit.SECONDS);
  }

  /** Deletes every key under {@code /apisix/PREFIX}. */
  void deletePrefix(String prefix) throws Exception {
    client
        .getKVClient()
        .delete(bytes("/apisix/" + prefix), DeleteOption.builder().isPrefix(true).build())
        .get(10, TimeUnit.SECONDS);
  }

  /** etcd's current revision. */
  long revision() throws Exception {
    return client
        .getKVClient()
        .get(bytes("/apisix/"))
        .get(10, TimeUnit.SECONDS)
        .getHeader()
        .getRevision();
  }

  /** Compacts etcd's history up to {@code revision}, physically (waits for it). */
  void compact(long revision) throws Exception {
    client
        .getKVClient()
        .compact(
            revision,
            io.etcd.jetcd.options.CompactOption.builder().withCompactPhysical(true).build())
        .get(30, TimeUnit.SECONDS);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** Stops what it started: the dataplane by its own handle, the client. */
  @Override
  public void close() {
    try {
      if (dataplane != null) {
        JarProcess.stop(dataplane);
      }
    } finally {
      client.close();
      http.close();
    }
  }
}
