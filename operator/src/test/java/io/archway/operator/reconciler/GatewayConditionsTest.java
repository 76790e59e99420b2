package io.archway.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.operator.translate.GatewayApi;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayConditionsTest {

  @Test
  void aConditionKeepsItsTransitionTimeWhileItsStatusStays() {
    var before = GatewayApi.condition("Accepted", true, "Accepted", "accepted", 1L);
    before.setLastTransitionTime("2026-01-01T00:00:00Z");
    var now = GatewayApi.condition("Accepted", true, "Accepted", "accepted", 2L);
    GatewayConditions.merge(List.of(before), List.of(now), "2026-02-02T00:00:00Z");
    assertThat(now.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(now.getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void aChangedOrNewConditionGetsNow() {
    var before = GatewayApi.condition("Programmed", true, "Programmed", "ok", 1L);
    before.setLastTransitionTime("2026-01-01T00:00:00Z");
    var flipped = GatewayApi.condition("Programmed", false, "Invalid", "no", 1L);
    var fresh = GatewayApi.condition("Accepted", true, "Accepted", "accepted", 1L);
    GatewayConditions.merge(List.of(before), List.of(flipped, fresh), "2026-02-02T00:00:00Z");
    assertThat(flipped.getLastTransitionTime()).isEqualTo("2026-02-02T00:00:00Z");
    assertThat(fresh.getLastTransitionTime()).isEqualTo("2026-02-02T00:00:00Z");
    GatewayConditions.merge(null, List.of(fresh), "2026-03-03T00:00:00Z");
    assertThat(fresh.getLastTransitionTime()).isEqualTo("2026-03-03T00:00:00Z");
  }

  @Test
  void detectionReadsTheGroupsKindsServedVersionsAndBundleVersion() {
    var crds =
        new java.util.ArrayList<CustomResourceDefinition>(GatewayApiIT.gatewayApiCrds("v1.2.0"));
    // Another group's CRD, and a version no longer served, are not counted.
    var other = GatewayApiIT.gatewayApiCrds("v9.9.9").get(0);
    other.getSpec().setGroup("example.com");
    crds.add(other);
    crds.get(1).getSpec().getVersions().get(1).setServed(false);
    var found = GatewayApiCrds.of(crds);
    assertThat(found.kinds().keySet())
        .containsExactlyInAnyOrder("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant");
    assertThat(found.has("Gateway", "v1")).isTrue();
    assertThat(found.has("Gateway", "v1beta1")).isFalse();
    assertThat(found.has("ReferenceGrant", "v1beta1")).isTrue();
    assertThat(found.bundleVersion()).isEqualTo("v1.2.0");
    assertThat(GatewayApiCrds.of(List.of()).kinds()).isEmpty();
  }

  @Test
  void theSupportedBundleIsTheTargetsMinorVersion() {
    assertThat(GatewayApi.supportedVersion(GatewayApi.BUNDLE_VERSION)).isTrue();
    assertThat(GatewayApi.supportedVersion("v1.2.0")).isTrue();
    assertThat(GatewayApi.supportedVersion("v1.3.0")).isFalse();
    assertThat(GatewayApi.supportedVersion("v1.1.1")).isFalse();
    assertThat(GatewayApi.supportedVersion(null)).isFalse();
  }
}
