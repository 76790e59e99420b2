package io.archway.operator.reconciler;

import io.archway.operator.etcd.EtcdWriter;
import io.archway.operator.translate.Claim;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every reconciler shares: the etcd writer, the caches, events, metrics and the settings of
 * this operator.
 *
 * @param ingressClass the class this operator serves ({@code archway} by default)
 * @param publishService {@code namespace/name} of the dataplane Service whose address goes into
 *     Ingress status, or {@code null}
 * @param conflicted resources refused because an older one serves the same host and path, as {@code
 *     Kind/namespace/name}: reconciled again whenever a route changes or goes
 */
public record OperatorContext(
    KubernetesClient client,
    EtcdWriter writer,
    Caches caches,
    Events events,
    OperatorMetrics metrics,
    String ingressClass,
    String publishService,
    Map<String, Runnable> conflicted,
    Map<String, List<Claim>> claims) {

  public static final String CONTROLLER = "archway.io/ingress-controller";

  public OperatorContext(
      KubernetesClient client,
      EtcdWriter writer,
      Caches caches,
      OperatorMetrics metrics,
      String ingressClass,
      String publishService) {
    this(
        client,
        writer,
        caches,
        new Events(client),
        metrics,
        ingressClass,
        publishService,
        new ConcurrentHashMap<>(),
        new ConcurrentHashMap<>());
  }

  /** Whether a custom resource's {@code spec.ingressClassName} is this operator's. */
  boolean ourClass(String ingressClassName) {
    return ingressClassName == null
        || ingressClassName.isEmpty()
        || ingressClassName.equals(ingressClass);
  }
}
