package io.archway.e2e;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
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

/**
 * The product as users run it, for the e2e tests: a real etcd, the operator's jar and the
 * dataplane's jar as processes, and fabric8's mock Kubernetes API server in CRUD mode standing in
 * for the API server (no real one can run here; {@code K3sE2E} is the real-cluster variant). The
 * dataplane serves HTTP on {@link #httpPort()} (its own listener) and whatever listeners the
 * Gateways ask for.
 */
final class ArchwayStack implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * How to run it.
   *
   * @param discovery the operator's {@code --control-plane-discovery}
   * @param gatewayApi whether the Gateway API CRDs (every kind Archway serves) are installed first
   * @param dataplaneArgs extra dataplane options
   * @param operatorArgs extra operator options ({@code run ...})
   */
  record Options(
      String discovery, boolean gatewayApi, List<String> dataplaneArgs, List<String> operatorArgs) {

    Options(String discovery, boolean gatewayApi, List<String> dataplaneArgs) {
      this(discovery, gatewayApi, dataplaneArgs, List.of());
    }
  }

  private final Path dir;
  private final EtcdServer etcd;
  private final KubeMock kube;
  private final List<Process> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final int httpPort = Ports.free();
  private final int statusPort = Ports.free();

  private ArchwayStack(Path dir) {
    this.dir = dir;
    this.etcd = new EtcdServer().start();
    this.kube = new KubeMock();
  }

  /** Starts etcd, the mock API server, the operator and the dataplane; returns once it is ready. */
  static ArchwayStack start(Path dir, Options o) throws Exception {
    var s = new ArchwayStack(dir);
    try {
      s.launch(o);
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  private void launch(Options o) throws Exception {
    if (o.gatewayApi()) {
      kube.installGatewayApi();
    }
    var kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "URL"}}]
        users: [{name: e2e, user: {}}]
        contexts: [{name: mock, context: {cluster: mock, user: e2e, namespace: default}}]
        current-context: mock
        """
            .replace("URL", kube.client().getMasterUrl().toString()));
    var operatorArgs =
        new ArrayList<>(
            List.of(
                "run",
                "--kubeconfig",
                kubeconfig.toString(),
                "--etcd",
                etcd.endpoint(),
                "--metrics-port",
                "0",
                "--control-plane-discovery",
                o.discovery()));
    operatorArgs.addAll(o.operatorArgs());
    launch("operator", "../operator/target/archway-operator.jar", operatorArgs);
    var args =
        new ArrayList<>(
            List.of(
                "--etcd",
                etcd.endpoint(),
                "--bind",
                "127.0.0.1",
                "--http-port",
                "" + httpPort,
                "--https-port",
                "0",
                "--admin-port",
                "off",
                "--status-port",
                "" + statusPort));
    args.addAll(o.dataplaneArgs());
    launch("dataplane", "../dataplane/target/archway-dataplane.jar", args);
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> get(statusPort, "/readyz").statusCode() == 200);
  }

  private void launch(String name, String jar, List<String> args) throws IOException {
    processes.add(JarProcess.start(Path.of(jar), dir.resolve(name + ".log"), List.of(), args));
  }

  KubernetesClient client() {
    return kube.client();
  }

  /** Creates the resource that {@code yaml} describes on the API server, as kubectl create does. */
  <T extends io.fabric8.kubernetes.api.model.HasMetadata> T create(String yaml, Class<T> type) {
    return kube.client()
        .resource(io.fabric8.kubernetes.client.utils.Serialization.unmarshal(yaml, type))
        .create();
  }

  int httpPort() {
    return httpPort;
  }

  /** Creates the object of that YAML, or updates it when it exists. */
  <T extends HasMetadata> T create(Class<T> type, String yaml) {
    return kube.client().resource(Serialization.unmarshal(yaml, type)).createOr(e -> e.update());
  }

  /** Creates (or updates) every object of a YAML stream, in order; returns them. */
  List<HasMetadata> apply(String yaml) {
    var out = new ArrayList<HasMetadata>();
    var items =
        kube.client().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    for (var item : items) {
      out.add(kube.client().resource(item).createOr(e -> e.update()));
    }
    return out;
  }

  /** A GET with the JDK's client on the loopback port. */
  HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Stops what it started, processes by their own handles. */
  @Override
  public void close() {
    try {
      JarProcess.stopAll(processes);
    } finally {
      kube.close();
      etcd.close();
    }
  }

  /** The dataplane's status port ({@code /healthz}, {@code /readyz}, {@code /metrics}). */
  int statusPort() {
    return statusPort;
  }
}
