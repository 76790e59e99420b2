package io.archway.dataplane.config.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.archway.model.Kind;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The bookkeeping of a delta xDS stream: subscriptions, versions held, removals. */
class XdsDeltaStateTest {

  @Test
  void aNamedTypeSubscribesWhatIsNewAndUnsubscribesWhatIsGone() {
    var eds = new XdsDeltaState(XdsTranslator.ENDPOINT, false);
    assertThat(eds.initial()).as("nothing asked for yet").isNull();

    var first = eds.follow(Set.of("a", "b"));
    assertThat(first.subscribe()).containsExactly("a", "b");
    assertThat(first.unsubscribe()).isEmpty();

    var next = eds.follow(Set.of("b", "c"));
    assertThat(next.subscribe()).containsExactly("c");
    assertThat(next.unsubscribe()).containsExactly("a");
    assertThat(eds.names()).containsExactlyInAnyOrder("b", "c");

    assertThat(eds.follow(Set.of("c", "b")).empty()).isTrue();
  }

  @Test
  void aWildcardTypeNeverNamesResources() {
    var cds = new XdsDeltaState(XdsTranslator.CLUSTER, true);
    assertThat(cds.follow(Set.of("a")).empty()).isTrue();
    var initial = cds.initial().build();
    assertThat(initial.getTypeUrl()).isEqualTo(XdsTranslator.CLUSTER);
    assertThat(initial.getResourceNamesSubscribeList()).isEmpty();
    assertThat(initial.getInitialResourceVersionsMap()).isEmpty();
  }

  @Test
  void versionsFollowWhatWasAcceptedAndRemovedAndGoBackOnANewStream() {
    var cds = new XdsDeltaState(XdsTranslator.CLUSTER, true);
    cds.accepted(List.of(resource("a", "1"), resource("b", "1")), List.of());
    cds.accepted(List.of(resource("a", "2")), List.of("b", "never-had"));
    assertThat(cds.versions()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("a", "2"));
    assertThat(cds.initial().build().getInitialResourceVersionsMap())
        .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("a", "2"));

    var eds = new XdsDeltaState(XdsTranslator.ENDPOINT, false);
    eds.follow(Set.of("a", "b"));
    eds.accepted(List.of(resource("a", "7"), resource("b", "8")), List.of());
    // Unsubscribed: the server forgets it, and so does the next stream's request.
    eds.follow(Set.of("a"));
    var resumed = eds.initial().build();
    assertThat(resumed.getResourceNamesSubscribeList()).containsExactly("a");
    assertThat(resumed.getInitialResourceVersionsMap())
        .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("a", "7"));
  }

  @Test
  void resourcesUpdateByNameAndRemovalsLeaveTheRestAlone() throws Exception {
    var r = new XdsResources();
    r.update(XdsTranslator.CLUSTER, Map.of("a", cluster("a"), "b", cluster("b")), List.of());
    r.update(
        XdsTranslator.ENDPOINT,
        Map.of("a", endpoints("a", 1001), "b", endpoints("b", 1002)),
        List.of());
    assertThat(r.endpointNames()).containsExactly("a", "b");
    // An update of one cluster's endpoints; the other's stay.
    r.update(XdsTranslator.ENDPOINT, Map.of("a", endpoints("a", 2001)), List.of());
    var upstreams =
        r.assemble().entrySet().stream()
            .filter(e -> e.getKey().kind() == Kind.UPSTREAMS)
            .map(e -> e.getValue().toString())
            .toList();
    assertThat(upstreams).anyMatch(u -> u.contains("2001")).anyMatch(u -> u.contains("1002"));
    assertThat(upstreams).noneMatch(u -> u.contains("1001"));
    // A removed cluster and load assignment are gone; the rest stay.
    r.update(XdsTranslator.CLUSTER, Map.of(), List.of("b"));
    r.update(XdsTranslator.ENDPOINT, Map.of(), List.of("b"));
    assertThat(r.endpointNames()).containsExactly("a");
    assertThat(r.missing(Set.of(), Set.of("a", "b"), Set.of()))
        .containsExactly("load assignment \"b\"");
  }

  @Test
  void aResourceThatDoesNotTranslateIsLeftOutAloneAndTheOldOneStays() {
    var r = new XdsResources();
    assertThat(r.update(XdsTranslator.ENDPOINT, Map.of("a", endpoints("a", 1001)), List.of()))
        .isEmpty();
    var refused =
        r.update(
            XdsTranslator.ENDPOINT,
            Map.of("a", cluster("a"), "b", endpoints("b", 1002)),
            List.of());
    assertThat(refused).containsOnlyKeys("a");
    assertThat(refused.get("a")).contains("expected: a load assignment");
    assertThat(r.missing(Set.of(), Set.of("a", "b"), Set.of())).isEmpty();
  }

  @Test
  void aResourceInFlightForANameJustUnsubscribedIsNotKeptNorResubscribed() {
    var eds = new XdsDeltaState(XdsTranslator.ENDPOINT, false);
    eds.follow(Set.of("a", "b"));
    eds.follow(Set.of("a"));
    assertThat(eds.wanted("b")).isFalse();
    // The server's response for b was already on its way.
    eds.accepted(List.of(resource("a", "1"), resource("b", "1")), List.of());
    assertThat(eds.versions()).containsOnlyKeys("a");
    assertThat(eds.initial().build().getInitialResourceVersionsMap()).containsOnlyKeys("a");
  }

  private static Resource resource(String name, String version) {
    return Resource.newBuilder().setName(name).setVersion(version).build();
  }

  private static Any cluster(String name) {
    return Any.pack(
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName(name))
            .build());
  }

  private static Any endpoints(String name, int port) {
    return Any.pack(
        ClusterLoadAssignment.newBuilder()
            .setClusterName(name)
            .addEndpoints(
                LocalityLbEndpoints.newBuilder()
                    .addLbEndpoints(
                        LbEndpoint.newBuilder()
                            .setEndpoint(
                                Endpoint.newBuilder()
                                    .setAddress(
                                        Address.newBuilder()
                                            .setSocketAddress(
                                                SocketAddress.newBuilder()
                                                    .setAddress("10.0.0.1")
                                                    .setPortValue(port))))))
            .build());
  }
}
