package io.archway.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.javaoperatorsdk.operator.processing.event.source.ResourceEventAware;
import java.util.function.Consumer;

/**
 * Hears the controller's own informer report a resource deleted, whatever its finalizer: the
 * framework runs the cleanup only for a resource that still carries the finalizer when it is marked
 * for deletion, so a resource that goes without it (deleted before the finalizer was added, the
 * finalizer taken off by hand or dropped by a replace) would leave its etcd keys behind until the
 * next start-up resync. Called on the informer's thread: {@code deleted} must return at once.
 */
final class Deletes<P extends HasMetadata> extends AbstractEventSource<Void, P>
    implements ResourceEventAware<P> {

  private final Consumer<P> deleted;

  Deletes(Consumer<P> deleted) {
    super(Void.class, "archway-deletes");
    this.deleted = deleted;
  }

  @Override
  public void onResourceDeleted(P resource) {
    deleted.accept(resource);
  }

  @Override
  public java.util.Set<Void> getSecondaryResources(P primary) {
    return java.util.Set.of();
  }
}
