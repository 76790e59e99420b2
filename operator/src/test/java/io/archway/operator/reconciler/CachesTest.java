package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.informers.impl.cache.CacheImpl;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class CachesTest {

  private static EndpointSlice slice(int version) {
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withName("web-abcde")
        .withNamespace("default")
        .withResourceVersion("" + version)
        .addToLabels(Caches.SERVICE_NAME_LABEL, "web")
        .endMetadata()
        .withAddressType("IPv4")
        .build();
  }

  @Test
  void aServiceWhoseOnlySliceIsBeingUpdatedAlwaysHasIt() throws Exception {
    // The informer's cache, as the operator's EndpointSlice informers have it: indexed by Service.
    var cache = new CacheImpl<EndpointSlice>();
    cache.addIndexers(Map.of("service", s -> List.of("default/web")));
    cache.put(slice(0));
    var stop = new AtomicBoolean();
    var writer =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (int v = 1; !stop.get(); v++) {
                    cache.put(slice(v));
                  }
                });
    try {
      for (int i = 0; i < 200_000; i++) {
        assertThat(Caches.byIndex(cache, "service", "default/web")).as("read %d", i).hasSize(1);
      }
    } finally {
      stop.set(true);
      writer.join();
    }
  }
}
