package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The product as users run it on a cluster, for the chaos scenarios that change what Kubernetes
 * holds: a real etcd, the operator's jar and the dataplane's jar as processes, and fabric8's mock
 * Kubernetes API server in CRUD mode standing in for the API server (no real one can run here).
 * Both processes reach the API server: the operator through a kubeconfig, the dataplane (for
 * upstreams with {@code discovery_type: kubernetes}) through {@code --kube-api}.
 */
final class KubeStack implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(60);

  private static final Pattern ERROR =
      Pattern.compile("^archway_http_errors_total\\{cause=\"([^\"]+)\"} (\\d+)", Pattern.MULTILINE);

  private final EtcdServer etcd = new EtcdServer().start();
  private final KubeMock kube = new KubeMock();
  private final List<Process> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final int httpPort = Ports.free();
  private final int statusPort = Ports.free();

  private KubeStack() {}

  /**
   * Starts etcd, the mock API server, the operator (with this {@code --control-plane-discovery})
   * and the dataplane; returns once the dataplane is ready.
   */
  static KubeStack start(Path dir, String controlPlaneDiscovery) throws Exception {
    var s = new KubeStack();
    try {
      s.launch(dir, controlPlaneDiscovery);
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  private void launch(Path dir, String controlPlaneDiscovery) throws Exception {
    var api = kube.client().getMasterUrl().toString();
    var kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "URL"}}]
        users: [{name: chaos, user: {}}]
        contexts: [{name: mock, context: {cluster: mock, user: chaos, namespace: default}}]
        current-context: mock
        """
            .replace("URL", api));
    launch(
        dir,
        "operator",
        "../operator/target/archway-operator.jar",
        List.of(
            "run",
            "--kubeconfig",
            kubeconfig.toString(),
            "--etcd",
            etcd.endpoint(),
            "--metrics-port",
            "0",
            "--control-plane-discovery",
            controlPlaneDiscovery));
    launch(
        dir,
        "dataplane",
        "../dataplane/target/archway-dataplane.jar",
        List.of(
            "--etcd",
            etcd.endpoint(),
            "--kube-api",
            api,
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
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> get(statusPort, "/readyz").statusCode() == 200);
  }

  private void launch(Path dir, String name, String jar, List<String> args) throws IOException {
    processes.add(JarProcess.start(Path.of(jar), dir.resolve(name + ".log"), List.of(), args));
  }

  KubernetesClient client() {
    return kube.client();
  }

  /** Creates the object of that YAML, or updates it when it exists. */
  <T extends HasMetadata> T apply(Class<T> type, String yaml) {
    return kube.client().resource(Serialization.unmarshal(yaml, type)).createOr(e -> e.update());
  }

  /** The dataplane's URL of this path. */
  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /** A GET of that path on the dataplane's HTTP port. */
  HttpResponse<String> get(String path) throws Exception {
    return get(httpPort, path);
  }

  /**
   * The dataplane's error counters by cause ({@code archway_http_errors_total} of {@code
   * /metrics}): {@code upstream_connect_failed} is a connection to a node refused, {@code
   * upstream_retry} a request sent again to another node.
   */
  Map<String, Long> errors() throws Exception {
    var out = new TreeMap<String, Long>();
    var m = ERROR.matcher(get(statusPort, "/metrics").body());
    while (m.find()) {
      out.put(m.group(1), Long.parseLong(m.group(2)));
    }
    return out;
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Stops what it started: the processes by their own handles, the mock API server, etcd. */
  @Override
  public void close() {
    processes.forEach(JarProcess::stop);
    http.close();
    kube.close();
    etcd.close();
  }
}
