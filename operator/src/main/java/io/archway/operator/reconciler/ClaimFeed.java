package io.archway.operator.reconciler;

import io.archway.operator.translate.ClaimIndex;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.javaoperatorsdk.operator.processing.event.source.ResourceEventAware;

/**
 * Keeps a {@link ClaimIndex} in step with the controller's own informer: every resource in its
 * cache, reconciled yet or not, of our class or not (the framework tells event sources before it
 * filters). Called on the informer's thread.
 */
final class ClaimFeed<P extends HasMetadata> extends AbstractEventSource<Void, P>
    implements ResourceEventAware<P> {

  private final ClaimIndex index;

  ClaimFeed(ClaimIndex index) {
    super(Void.class, "archway-claims");
    this.index = index;
  }

  @Override
  public void onResourceCreated(P resource) {
    index.put(resource);
  }

  @Override
  public void onResourceUpdated(P resource, P old) {
    index.put(resource);
  }

  @Override
  public void onResourceDeleted(P resource) {
    index.remove(resource);
  }

  @Override
  public java.util.Set<Void> getSecondaryResources(P primary) {
    return java.util.Set.of();
  }
}
