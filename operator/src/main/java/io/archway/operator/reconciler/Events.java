package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events on resources ({@code kubectl describe} shows them). The same reason and message
 * for the same resource generation is recorded once, so a resource retried every few seconds does
 * not flood the event log.
 */
final class Events {

  private static final Logger LOG = LoggerFactory.getLogger(Events.class);
  private static final String COMPONENT = "archway-operator";

  private final KubernetesClient client;

  /** Per resource uid: the generation and what was recorded for it. */
  private final Map<String, Map<String, Boolean>> recorded = new ConcurrentHashMap<>();

  Events(KubernetesClient client) {
    this.client = client;
  }

  void warning(HasMetadata r, String reason, String message) {
    record(r, "Warning", reason, message);
  }

  void normal(HasMetadata r, String reason, String message) {
    record(r, "Normal", reason, message);
  }

  void forget(HasMetadata r) {
    recorded.remove(r.getMetadata().getUid());
  }

  private void record(HasMetadata r, String type, String reason, String message) {
    var m = r.getMetadata();
    var fingerprint = m.getGeneration() + "|" + reason + "|" + message;
    if (m.getUid() != null
        && recorded
                .computeIfAbsent(m.getUid(), k -> new ConcurrentHashMap<>())
                .putIfAbsent(fingerprint, Boolean.TRUE)
            != null) {
      return;
    }
    var now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    var msg = message.length() > 1024 ? message.substring(0, 1021) + "..." : message;
    try {
      client
          .v1()
          .events()
          .inNamespace(m.getNamespace())
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withGenerateName(m.getName() + ".")
                  .withNamespace(m.getNamespace())
                  .endMetadata()
                  .withInvolvedObject(
                      new ObjectReferenceBuilder()
                          .withApiVersion(r.getApiVersion())
                          .withKind(r.getKind())
                          .withNamespace(m.getNamespace())
                          .withName(m.getName())
                          .withUid(m.getUid())
                          .withResourceVersion(m.getResourceVersion())
                          .build())
                  .withType(type)
                  .withReason(reason)
                  .withMessage(msg)
                  .withCount(1)
                  .withFirstTimestamp(now)
                  .withLastTimestamp(now)
                  .withNewSource()
                  .withComponent(COMPONENT)
                  .endSource()
                  .withReportingComponent(COMPONENT)
                  .build())
          .create();
    } catch (RuntimeException e) {
      // An event is a courtesy: failing to record one must not fail the reconcile.
      LOG.debug("could not record event on {} {}: {}", r.getKind(), m.getName(), e.getMessage());
    }
  }
}
