package io.archway.e2e.chaos;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import io.archway.model.sink.Owner;
import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.archway.operator.translate.Manifests;
import io.archway.operator.translate.Translators;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The operator's side of the chaos suite: a real etcd, the dataplane's jar as a process fed from
 * it, and the operator's jar as one or more processes (replicas, under leader election on a Lease
 * when asked), with fabric8's mock Kubernetes API server in CRUD mode standing in for the API
 * server (no real one can run here; it stores Leases as it stores any object, so leader election
 * runs on it as on a cluster). Replicas are started, stopped and killed by their own handles.
 */
final class OperatorStack implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(120);

  /** The Lease the replicas elect their leader on (the operator's default). */
  static final String LEASE = "archway-operator";

  /** One etcd event on the prefix: a PUT or a DELETE of a key (without the prefix). */
  record Event(long revision, String type, String key, String value) {}

  private final Path dir;
  private final EtcdServer etcd = new EtcdServer().start();
  private final Client client = Client.builder().endpoints(etcd.endpoint()).build();
  private final KubeMock kube = new KubeMock();
  private final HttpClient http = HttpClient.newHttpClient();
  private final int httpPort = Ports.free();
  private final int statusPort = Ports.free();
  private final Map<String, Process> operators = new LinkedHashMap<>();
  private final Path kubeconfig;
  private Process dataplane;

  private OperatorStack(Path dir) throws IOException {
    this.dir = dir;
    kubeconfig = dir.resolve("kubeconfig");
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
  }

  /** Starts etcd, the mock API server and the dataplane (no operator yet). */
  static OperatorStack start(Path dir) throws Exception {
    var s = new OperatorStack(dir);
    try {
      s.dataplane =
          JarProcess.start(
              Path.of("../dataplane/target/archway-dataplane.jar"),
              dir.resolve("dataplane.log"),
              List.of(),
              List.of(
                  "--etcd",
                  s.etcd.endpoint(),
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
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .until(() -> s.get(s.statusPort, "/readyz").statusCode() == 200);
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  /**
   * Starts an operator replica named {@code name} (its {@code POD_NAME}, its identity in the
   * Lease), its output appended to {@code operator-NAME.log}.
   */
  void startOperator(String name, List<String> extraArgs) throws IOException {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Each etcd change a reconcile makes is logged, with the time.
    cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    cmd.add("-Dorg.slf4j.simpleLogger.log.io.archway.operator.reconciler.ResourceReconciler=debug");
    cmd.add("-jar");
    cmd.add(Path.of("../operator/target/archway-operator.jar").toString());
    cmd.addAll(
        List.of(
            "run",
            "--kubeconfig",
            kubeconfig.toString(),
            "--etcd",
            etcd.endpoint(),
            "--metrics-port",
            "0"));
    cmd.addAll(extraArgs);
    var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("POD_NAME", name);
    // Kept in target/ after the run: what each replica did is what a failure is read from.
    var logs = Path.of("target", "chaos-operator-logs");
    Files.createDirectories(logs);
    pb.redirectOutput(
        ProcessBuilder.Redirect.appendTo(
            logs.resolve(dir.getFileName() + "-operator-" + name + ".log").toFile()));
    operators.put(name, pb.start());
  }

  /** SIGKILL to that replica, by its own handle; returns once it is gone. */
  void kill(String name) throws InterruptedException {
    var p = operators.remove(name);
    p.destroyForcibly();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM to that replica (then SIGKILL after 10 s), by its own handle. */
  void stop(String name) {
    JarProcess.stop(operators.remove(name));
  }

  /** Who holds the Lease now, or null. */
  String leaseHolder() {
    var lease = kube.client().resources(Lease.class).inNamespace("default").withName(LEASE).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  KubernetesClient client() {
    return kube.client();
  }

  /**
   * Creates the object of that YAML, or replaces its spec when it exists. The operator changes the
   * object too (its finalizer), so an update can meet a newer version (409 Conflict): it is sent
   * again on the latest, as {@code kubectl apply} does.
   */
  <T extends HasMetadata> T apply(Class<T> type, String yaml) {
    for (int attempt = 1; ; attempt++) {
      try {
        return kube.client()
            .resource(Serialization.unmarshal(yaml, type))
            .createOr(e -> e.update());
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /** The dataplane's URL of this path. */
  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /**
   * The load of these scenarios on a path: 4 clients (half on keep-alive connections) 5 ms apart,
   * each answer checked to come from the backend named {@code a}.
   */
  Load load(String path) {
    return load(path, List.of("a"));
  }

  /** As {@link #load(String)}, each answer checked to come from one of these backends. */
  Load load(String path, List<String> backends) {
    return new Load(
        uri(path),
        4,
        Duration.ofMillis(5),
        Duration.ofSeconds(5),
        (status, body) ->
            backends.stream().anyMatch(b -> body.contains("\"backend\":\"" + b + "\""))
                ? null
                : "not an answer of " + String.join(" or ", backends));
  }

  HttpResponse<String> get(String path) throws Exception {
    return get(httpPort, path);
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** etcd's current revision. */
  long revision() throws Exception {
    return client
        .getKVClient()
        .get(bytes("/apisix/routes/"), GetOption.builder().withCountOnly(true).build())
        .get(10, TimeUnit.SECONDS)
        .getHeader()
        .getRevision();
  }

  /** Every key under {@code /apisix/} (without the prefix) and its value. */
  TreeMap<String, JsonNode> etcdContent() throws Exception {
    var prefix = bytes("/apisix/");
    var res =
        client
            .getKVClient()
            .get(prefix, GetOption.builder().isPrefix(true).build())
            .get(10, TimeUnit.SECONDS);
    var out = new TreeMap<String, JsonNode>();
    for (var kv : res.getKvs()) {
      out.put(
          kv.getKey().toString(StandardCharsets.UTF_8).substring("/apisix/".length()),
          ModelJson.mapper().readTree(kv.getValue().getBytes()));
    }
    return out;
  }

  /** Every event on {@code /apisix/} after {@code revision}, up to etcd's current revision. */
  List<Event> history(long revision) throws Exception {
    long until = revision();
    var events = new ArrayList<Event>();
    if (until <= revision) {
      return events;
    }
    var done = new CountDownLatch(1);
    var prefix = bytes("/apisix/");
    try (var watch =
        client
            .getWatchClient()
            .watch(
                prefix,
                WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                r -> {
                  synchronized (events) {
                    for (var e : r.getEvents()) {
                      var kv = e.getKeyValue();
                      events.add(
                          new Event(
                              kv.getModRevision(),
                              e.getEventType() == WatchEvent.EventType.DELETE ? "DELETE" : "PUT",
                              kv.getKey()
                                  .toString(StandardCharsets.UTF_8)
                                  .substring("/apisix/".length()),
                              kv.getValue().toString(StandardCharsets.UTF_8)));
                      if (kv.getModRevision() >= until) {
                        done.countDown();
                      }
                    }
                  }
                })) {
      // Events of other prefixes do not come: wait for the last one of ours, else a short while.
      done.await(5, TimeUnit.SECONDS);
    }
    synchronized (events) {
      return events.stream().filter(e -> e.revision() <= until).toList();
    }
  }

  /**
   * What the resources now in the API server translate to, as etcd should hold it: each item's JSON
   * with its owner's labels, by key. Translated as {@code archway-operator translate} does, from
   * the resources and the Services they name (a resource being deleted counts as gone).
   */
  TreeMap<String, JsonNode> expected(List<Class<? extends HasMetadata>> kinds) throws Exception {
    var yaml = new StringBuilder();
    var resources = new ArrayList<HasMetadata>();
    for (var kind : kinds) {
      for (var r : kube.client().resources(kind).inAnyNamespace().list().getItems()) {
        if (r.getMetadata().getDeletionTimestamp() == null) {
          resources.add(r);
        }
      }
    }
    resources.addAll(kube.client().services().inAnyNamespace().list().getItems());
    for (var r : resources) {
      yaml.append("---\n").append(Serialization.asYaml(r).replaceFirst("^---\n", ""));
    }
    var file = Files.createTempFile(dir, "resources-", ".yaml");
    Files.writeString(file, yaml);
    var manifests = new Manifests("default").read(file);
    var out = new TreeMap<String, JsonNode>();
    for (var doc : manifests.docs()) {
      var r = doc.resource();
      var t = Translators.translate(r, manifests);
      if (t.isEmpty() || !t.get().ok()) {
        continue;
      }
      var m = r.getMetadata();
      var owner = new Owner(r.getKind(), m.getNamespace(), m.getName(), m.getUid());
      for (var item : t.get().items()) {
        var json = (ObjectNode) ModelJson.toTree(item.object());
        var labels = new TreeMap<String, String>();
        if (item.object().labels() != null) {
          labels.putAll(item.object().labels());
        }
        labels.putAll(owner.labels());
        json.set("labels", ModelJson.mapper().valueToTree(labels));
        // As read back from etcd (numbers as parsed, not as the model's types).
        out.put(
            item.key(), ModelJson.mapper().readTree(ModelJson.mapper().writeValueAsBytes(json)));
      }
    }
    return out;
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** Stops what it started: replicas and the dataplane by their own handles, then etcd. */
  @Override
  public void close() {
    try {
      JarProcess.stopAll(
          java.util.stream.Stream.concat(
                  List.copyOf(operators.values()).stream(),
                  java.util.stream.Stream.ofNullable(dataplane))
              .toList());
      operators.clear();
    } finally {
      client.close();
      http.close();
      kube.close();
      etcd.close();
    }
  }
}
