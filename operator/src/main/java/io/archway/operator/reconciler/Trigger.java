package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;

/**
 * An event source through which the operator asks for a resource to be reconciled: when something
 * it references changes, or when a resource it conflicted with is gone.
 */
final class Trigger<P extends HasMetadata> extends AbstractEventSource<Void, P> {

  Trigger() {
    super(Void.class, "archway-trigger");
  }

  @Override
  public java.util.Set<Void> getSecondaryResources(P primary) {
    return java.util.Set.of();
  }

  void fire(HasMetadata r) {
    if (isRunning() && getEventHandler() != null) {
      getEventHandler().handleEvent(new Event(ResourceID.fromResource(r)));
    }
  }
}
