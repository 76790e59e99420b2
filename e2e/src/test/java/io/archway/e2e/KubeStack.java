package io.archway.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@link ArchwayStack} for the chaos scenarios of another package that change what Kubernetes
 * holds: a real etcd, the operator's jar and the dataplane's jar as processes, and fabric8's mock
 * Kubernetes API server in CRUD mode standing in for the API server (no real one can run here).
 * Both processes reach the API server through the stack's kubeconfig: the operator, and the
 * dataplane for upstreams with {@code discovery_type: kubernetes}.
 */
public final class KubeStack implements AutoCloseable {

  private static final Pattern ERROR =
      Pattern.compile("^archway_http_errors_total\\{cause=\"([^\"]+)\"} (\\d+)", Pattern.MULTILINE);

  private final ArchwayStack stack;

  private KubeStack(ArchwayStack stack) {
    this.stack = stack;
  }

  /**
   * Starts etcd, the mock API server, the operator (with this {@code --control-plane-discovery})
   * and the dataplane; returns once the dataplane is ready.
   */
  public static KubeStack start(Path dir, String controlPlaneDiscovery) throws Exception {
    return new KubeStack(
        ArchwayStack.start(
            dir,
            new ArchwayStack.Options(
                controlPlaneDiscovery,
                false,
                // The kubeconfig the stack writes for the operator, before it starts either.
                List.of(
                    "--kubeconfig", dir.resolve("kubeconfig").toString(), "--access-log", "off"))));
  }

  public KubernetesClient client() {
    return stack.client();
  }

  /** Creates the object of that YAML, or updates it when it exists. */
  public <T extends HasMetadata> T apply(Class<T> type, String yaml) {
    return stack.create(type, yaml);
  }

  /** The dataplane's URL of this path. */
  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + stack.httpPort() + path);
  }

  /** A GET of that path on the dataplane's HTTP port. */
  public HttpResponse<String> get(String path) throws Exception {
    return stack.get(stack.httpPort(), path);
  }

  /**
   * The dataplane's error counters by cause ({@code archway_http_errors_total} of {@code
   * /metrics}): {@code upstream_connect_failed} is a connection to a node refused, {@code
   * upstream_retry} a request sent again to another node.
   */
  public Map<String, Long> errors() throws Exception {
    var out = new TreeMap<String, Long>();
    var m = ERROR.matcher(stack.get(stack.statusPort(), "/metrics").body());
    while (m.find()) {
      out.put(m.group(1), Long.parseLong(m.group(2)));
    }
    return out;
  }

  /** Stops what it started, processes by their own handles. */
  @Override
  public void close() {
    stack.close();
  }
}
