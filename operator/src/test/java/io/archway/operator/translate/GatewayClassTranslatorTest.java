package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

/** The version check of a GatewayClass, which the fixtures (no bundle version) cannot show. */
class GatewayClassTranslatorTest {

  private static final GatewayClass CLASS =
      Serialization.unmarshal(
          """
          apiVersion: gateway.networking.k8s.io/v1
          kind: GatewayClass
          metadata: {name: archway, generation: 3}
          spec: {controllerName: archway.io/gateway-controller}
          """,
          GatewayClass.class);

  @Test
  void anotherBundleVersionIsAWarningNotARefusal() {
    var t = GatewayClassTranslator.translate(CLASS, new Manifests("default"), "v1.4.0");
    assertThat(t.ok()).isTrue();
    assertThat(t.warnings()).singleElement().asString().contains("v1.4.0");
    var status = (GatewayClassStatus) t.status();
    assertThat(status.getConditions())
        .extracting(c -> c.getType() + " " + c.getStatus() + " " + c.getReason())
        .containsExactly("Accepted True Accepted", "SupportedVersion False UnsupportedVersion");
    assertThat(status.getConditions()).allMatch(c -> c.getObservedGeneration() == 3L);
  }

  @Test
  void theTargetedBundleIsSupported() {
    var t =
        GatewayClassTranslator.translate(
            CLASS, new Manifests("default"), GatewayApi.BUNDLE_VERSION);
    assertThat(t.warnings()).isEmpty();
    assertThat(((GatewayClassStatus) t.status()).getConditions())
        .extracting(c -> c.getType() + " " + c.getStatus() + " " + c.getReason())
        .containsExactly("Accepted True Accepted", "SupportedVersion True SupportedVersion");
  }
}
