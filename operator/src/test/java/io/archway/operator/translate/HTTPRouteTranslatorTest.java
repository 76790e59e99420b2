package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Kind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What the fixtures do not show: ids stable across changes, and status written per parent. */
class HTTPRouteTranslatorTest {

  /** The manifests of one YAML text (a file in {@code dir}). */
  static Manifests read(String yaml, Path dir) throws IOException {
    var f = dir.resolve("in.yaml");
    Files.writeString(f, yaml);
    return new Manifests("default").read(f);
  }

  private static final String GATEWAY =
      """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: archway}
      spec: {controllerName: archway.io/gateway-controller}
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: gw, namespace: default}
      spec:
        gatewayClassName: archway
        listeners:
        - {name: a, protocol: HTTP, port: 80}
        - {name: b, protocol: HTTP, port: 81}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec: {ports: [{port: 8080}]}
      """;

  private static String route(int weight, String extraMatch) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: default, creationTimestamp: "2026-02-01T10:00:00Z"}
        spec:
          parentRefs: [{name: gw}]
          rules:
          - matches: [{path: {value: /a}}%s]
            backendRefs: [{name: web, port: 8080, weight: %d}]
        ---
        """
        .formatted(extraMatch, weight);
  }

  private static java.util.List<String> ids(Manifests m) {
    var t = HTTPRouteTranslator.translate((HTTPRoute) m.docs().get(0).resource(), m);
    assertThat(t.errors()).isEmpty();
    return t.items().stream()
        .filter(i -> i.kind() == Kind.ROUTES)
        .map(i -> i.object().id())
        .toList();
  }

  @Test
  void idsAreStableAcrossChangesThatKeepRulesAndMatches(@org.junit.jupiter.api.io.TempDir Path d)
      throws IOException {
    var before = ids(read(route(1, "") + GATEWAY, d));
    var after = ids(read(route(5, "") + GATEWAY, d));
    assertThat(before).hasSize(2).doesNotHaveDuplicates().isEqualTo(after);
    // A new match adds its routes and leaves the others' ids alone.
    var more = ids(read(route(1, ", {path: {value: /b}}") + GATEWAY, d));
    assertThat(more).hasSize(4).containsAll(before);
  }

  @Test
  void statusHasOneEntryPerParentRefInOrder(@org.junit.jupiter.api.io.TempDir Path d)
      throws IOException {
    var yaml =
        route(1, "")
                .replace(
                    "parentRefs: [{name: gw}]",
                    "parentRefs: [{name: gw, sectionName: b}, {name: gone}, {name: gw, port: 9}]")
            + GATEWAY;
    var m = read(yaml, d);
    var status = HTTPRouteTranslator.status((HTTPRoute) m.docs().get(0).resource(), m);
    assertThat(status)
        .extracting(s -> s.getParentRef().getName() + ":" + s.getConditions().get(0).getReason())
        .containsExactly("gw:Accepted", "gone:NoMatchingParent", "gw:NoMatchingParent");
    assertThat(status)
        .allSatisfy(
            s -> assertThat(s.getControllerName()).isEqualTo(HTTPRouteTranslator.CONTROLLER));
    // Only the listener the sectionName names gets routes.
    var t = HTTPRouteTranslator.translate((HTTPRoute) m.docs().get(0).resource(), m);
    assertThat(t.items())
        .singleElement()
        .satisfies(
            i ->
                assertThat(io.archway.model.ModelJson.toTree(i.object()).at("/vars/0/2").asInt())
                    .isEqualTo(81));
  }
}
