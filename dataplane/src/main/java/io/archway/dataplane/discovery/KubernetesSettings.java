package io.archway.dataplane.discovery;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the dataplane reaches the Kubernetes API for discovery: a kubeconfig file, an API server URL,
 * or (neither) in-cluster, else {@code $KUBECONFIG} or {@code ~/.kube/config}.
 */
public record KubernetesSettings(Path kubeconfig, String apiServer) {

  public static final KubernetesSettings AUTO = new KubernetesSettings(null, null);

  /** A client as these settings say; the client is only made when a Service is referenced. */
  public KubernetesClient client() {
    Config config;
    if (kubeconfig != null) {
      try {
        config = Config.fromKubeconfig(Files.readString(kubeconfig));
      } catch (IOException e) {
        throw new UncheckedIOException("kubeconfig " + kubeconfig + ": " + e.getMessage(), e);
      }
    } else if (apiServer != null) {
      config = new ConfigBuilder().withMasterUrl(apiServer).build();
    } else {
      config = new ConfigBuilder().build();
    }
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
