package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class GatewayApiMemoTest {

  final GatewayApiMemo memo = new GatewayApiMemo();
  final AtomicInteger computed = new AtomicInteger();

  static Gateway gateway(String resourceVersion, long generation) {
    return new GatewayBuilder()
        .withNewMetadata()
        .withNamespace("ns")
        .withName("edge")
        .withUid("g1")
        .withResourceVersion(resourceVersion)
        .withGeneration(generation)
        .endMetadata()
        .build();
  }

  static HTTPRoute route(String name, String resourceVersion) {
    return new HTTPRouteBuilder()
        .withNewMetadata()
        .withNamespace("ns")
        .withName(name)
        .withResourceVersion(resourceVersion)
        .endMetadata()
        .build();
  }

  Set<String> served(Gateway gw) {
    return memo.servedListeners(
        gw,
        () -> {
          computed.incrementAndGet();
          return Set.of("http");
        });
  }

  Set<String> attached(HasMetadata route, Gateway gw, String classVersion) {
    return memo.attached(
        route,
        gw,
        classVersion,
        () -> {
          computed.incrementAndGet();
          return Set.of("http", "https");
        });
  }

  @Test
  void servedListenersAreComputedOncePerGatewayVersionAndAgainAfterWhatTheyRead() {
    assertThat(served(gateway("1", 1))).containsExactly("http");
    served(gateway("1", 1));
    assertThat(computed).hasValue(1);
    // Its status written: another resourceVersion.
    served(gateway("2", 1));
    assertThat(computed).hasValue(2);
    // A Secret (or any object a translation reads) changed.
    memo.changed(new SecretBuilder().withNewMetadata().withName("s").endMetadata().build());
    served(gateway("2", 1));
    assertThat(computed).hasValue(3);
    // Endpoints give nodes, never listeners.
    memo.changed(new EndpointSliceBuilder().withNewMetadata().withName("e").endMetadata().build());
    served(gateway("2", 1));
    assertThat(computed).hasValue(3);
  }

  @Test
  void attachedListenersFollowTheRouteTheGatewaysSpecItsClassAndNamespaces() {
    var r = route("a", "10");
    assertThat(attached(r, gateway("1", 1), "c1")).containsExactlyInAnyOrder("http", "https");
    // The Gateway's status written (resourceVersion) is not a change of what routes attach to.
    attached(r, gateway("2", 1), "c1");
    assertThat(computed).hasValue(1);
    attached(r, gateway("3", 2), "c1");
    assertThat(computed).hasValue(2);
    attached(r, gateway("3", 2), "c2");
    assertThat(computed).hasValue(3);
    attached(route("a", "11"), gateway("3", 2), "c2");
    assertThat(computed).hasValue(4);
    memo.changed(new NamespaceBuilder().withNewMetadata().withName("ns").endMetadata().build());
    attached(route("a", "11"), gateway("3", 2), "c2");
    assertThat(computed).hasValue(5);
    // Another route has its own entry; a route gone has none.
    attached(route("b", "11"), gateway("3", 2), "c2");
    assertThat(computed).hasValue(6);
    memo.forget(route("a", "11"));
    attached(route("a", "11"), gateway("3", 2), "c2");
    assertThat(computed).hasValue(7);
  }
}
