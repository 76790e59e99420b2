package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ListenerAttachmentTest {

  // ---- hostname intersection ----

  @Test
  void noHostnameOnEitherSideIsAnyHost() {
    assertThat(ListenerAttachment.intersect(null, null)).contains(List.of());
    assertThat(ListenerAttachment.intersect(List.of(), "")).contains(List.of());
  }

  @Test
  void oneSideOnlyGivesThatSide() {
    assertThat(ListenerAttachment.intersect(List.of(), "*.example.com"))
        .contains(List.of("*.example.com"));
    assertThat(ListenerAttachment.intersect(List.of("a.example.com", "b.org"), null))
        .contains(List.of("a.example.com", "b.org"));
  }

  @Test
  void exactHostnamesMustBeEqual() {
    assertThat(ListenerAttachment.intersect(List.of("foo.com"), "foo.com"))
        .contains(List.of("foo.com"));
    assertThat(ListenerAttachment.intersect(List.of("foo.com"), "bar.com")).isEmpty();
  }

  @Test
  void wildcardListenerKeepsTheRouteHostnamesItCovers() {
    assertThat(
            ListenerAttachment.intersect(
                List.of("a.example.com", "a.b.example.com", "example.com", "other.org"),
                "*.example.com"))
        .contains(List.of("a.example.com", "a.b.example.com"));
  }

  @Test
  void wildcardRouteHostnameGivesTheListenerHostnameItCovers() {
    assertThat(ListenerAttachment.intersect(List.of("*.example.com"), "api.example.com"))
        .contains(List.of("api.example.com"));
    assertThat(ListenerAttachment.intersect(List.of("*.example.com"), "example.com")).isEmpty();
  }

  @Test
  void twoWildcardsGiveTheMoreSpecific() {
    assertThat(ListenerAttachment.intersect(List.of("*.foo.example.com"), "*.example.com"))
        .contains(List.of("*.foo.example.com"));
    assertThat(ListenerAttachment.intersect(List.of("*.example.com"), "*.foo.example.com"))
        .contains(List.of("*.foo.example.com"));
    assertThat(ListenerAttachment.intersect(List.of("*.example.com"), "*.example.com"))
        .contains(List.of("*.example.com"));
    assertThat(ListenerAttachment.intersect(List.of("*.example.org"), "*.example.com")).isEmpty();
  }

  @Test
  void hostnamesCompareWithoutCaseAndOnce() {
    assertThat(ListenerAttachment.intersect(List.of("Foo.COM", "foo.com"), "foo.com"))
        .contains(List.of("foo.com"));
  }

  // ---- attachment ----

  private static Listener listener(String name, String protocol, int port, String hostname) {
    return new ListenerBuilder()
        .withName(name)
        .withProtocol(protocol)
        .withPort(port)
        .withHostname(hostname)
        .build();
  }

  private static Gateway gateway(Listener... listeners) {
    return new GatewayBuilder()
        .withNewMetadata()
        .withName("gw")
        .withNamespace("infra")
        .endMetadata()
        .withNewSpec()
        .withGatewayClassName("archway")
        .withListeners(listeners)
        .endSpec()
        .build();
  }

  private static ParentReference ref(String section, Integer port) {
    return new ParentReferenceBuilder()
        .withName("gw")
        .withNamespace("infra")
        .withSectionName(section)
        .withPort(port)
        .build();
  }

  private static final java.util.function.Function<String, Optional<Namespace>> NO_NAMESPACES =
      n -> Optional.empty();

  private static List<String> names(ListenerAttachment.Result r) {
    return r.listeners().stream().map(a -> a.listener().getName()).toList();
  }

  @Test
  void refersToNeedsGroupKindNamespaceAndName() {
    var gw = gateway(listener("http", "HTTP", 80, null));
    assertThat(ListenerAttachment.refersTo(ref(null, null), "apps", gw)).isTrue();
    var sameNs = new ParentReferenceBuilder().withName("gw").build();
    assertThat(ListenerAttachment.refersTo(sameNs, "apps", gw)).isFalse();
    assertThat(ListenerAttachment.refersTo(sameNs, "infra", gw)).isTrue();
    var service = new ParentReferenceBuilder().withKind("Service").withGroup("").withName("gw");
    assertThat(ListenerAttachment.refersTo(service.withNamespace("infra").build(), "infra", gw))
        .isFalse();
  }

  @Test
  void sectionNameAndPortSelectListeners() {
    var gw =
        gateway(
            listener("http", "HTTP", 80, null),
            listener("alt", "HTTP", 8080, null),
            listener("https", "HTTPS", 443, null));
    allowAll(gw);
    assertThat(names(attach(gw, ref(null, null), List.of())))
        .containsExactly("http", "alt", "https");
    assertThat(names(attach(gw, ref("alt", null), List.of()))).containsExactly("alt");
    assertThat(names(attach(gw, ref(null, 443), List.of()))).containsExactly("https");
    var none = attach(gw, ref("alt", 443), List.of());
    assertThat(none.accepted()).isFalse();
    assertThat(none.reason()).isEqualTo("NoMatchingParent");
  }

  @Test
  void onlyListenersWhoseProtocolServesHttpRoutes() {
    var gw = gateway(listener("tls", "TLS", 443, null), listener("tcp", "TCP", 9000, null));
    allowAll(gw);
    var r = attach(gw, ref(null, null), List.of());
    assertThat(r.reason()).isEqualTo("NotAllowedByListeners");
    assertThat(ListenerAttachment.defaultKinds("HTTPS")).contains("HTTPRoute");
  }

  @Test
  void allowedKindsMustListHttpRoute() {
    var gw = gateway(listener("http", "HTTP", 80, null), listener("grpc", "HTTP", 81, null));
    allowAll(gw);
    gw.getSpec()
        .getListeners()
        .get(1)
        .getAllowedRoutes()
        .setKinds(
            List.of(
                new io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind(
                    null, "GRPCRoute")));
    assertThat(names(attach(gw, ref(null, null), List.of()))).containsExactly("http");
  }

  @Test
  void namespacesSameIsTheDefault() {
    var gw = gateway(listener("http", "HTTP", 80, null));
    var other =
        ListenerAttachment.attach(
            "HTTPRoute", "apps", List.of(), ref(null, null), gw, NO_NAMESPACES);
    assertThat(other.reason()).isEqualTo("NotAllowedByListeners");
    var same =
        ListenerAttachment.attach(
            "HTTPRoute", "infra", List.of(), ref(null, null), gw, NO_NAMESPACES);
    assertThat(same.accepted()).isTrue();
    assertThat(same.reason()).isEqualTo("Accepted");
  }

  @Test
  void namespacesSelectorMatchesTheRouteNamespaceLabels() {
    var gw = gateway(listener("http", "HTTP", 80, null));
    var l = gw.getSpec().getListeners().get(0);
    l.setAllowedRoutes(
        new io.fabric8.kubernetes.api.model.gatewayapi.v1.AllowedRoutesBuilder()
            .withNewNamespaces()
            .withFrom("Selector")
            .withSelector(
                new LabelSelectorBuilder()
                    .withMatchLabels(Map.of("team", "a"))
                    .withMatchExpressions(
                        new LabelSelectorRequirementBuilder()
                            .withKey("tier")
                            .withOperator("NotIn")
                            .withValues("db")
                            .build())
                    .build())
            .endNamespaces()
            .build());
    java.util.function.Function<String, Optional<Namespace>> namespaces =
        n ->
            Optional.of(
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(n)
                    .withLabels(
                        switch (n) {
                          case "a-web" -> Map.of("team", "a", "tier", "web");
                          case "a-db" -> Map.of("team", "a", "tier", "db");
                          default -> Map.of("team", "b");
                        })
                    .endMetadata()
                    .build());
    assertThat(
            ListenerAttachment.attach(
                    "HTTPRoute", "a-web", List.of(), ref(null, null), gw, namespaces)
                .accepted())
        .isTrue();
    assertThat(
            ListenerAttachment.attach(
                    "HTTPRoute", "a-db", List.of(), ref(null, null), gw, namespaces)
                .reason())
        .isEqualTo("NotAllowedByListeners");
    assertThat(
            ListenerAttachment.attach("HTTPRoute", "b", List.of(), ref(null, null), gw, namespaces)
                .reason())
        .isEqualTo("NotAllowedByListeners");
    // A Namespace that is not known is not selected.
    assertThat(
            ListenerAttachment.attach(
                    "HTTPRoute", "a-web", List.of(), ref(null, null), gw, NO_NAMESPACES)
                .accepted())
        .isFalse();
  }

  @Test
  void hostnamesDecideLastAndGiveTheIntersection() {
    var gw =
        gateway(
            listener("foo", "HTTP", 80, "foo.example.com"),
            listener("wild", "HTTP", 80, "*.example.com"),
            listener("other", "HTTP", 80, "other.org"));
    allowAll(gw);
    var r = attach(gw, ref(null, null), List.of("foo.example.com"));
    assertThat(names(r)).containsExactly("foo", "wild");
    assertThat(r.listeners())
        .allSatisfy(a -> assertThat(a.hostnames()).containsExactly("foo.example.com"));
    var none = attach(gw, ref(null, null), List.of("nowhere.net"));
    assertThat(none.reason()).isEqualTo("NoMatchingListenerHostname");
    // The reasons come in the spec's order: a hostname mismatch is not reported for a listener
    // the sectionName does not select.
    assertThat(attach(gw, ref("missing", null), List.of("nowhere.net")).reason())
        .isEqualTo("NoMatchingParent");
  }

  @Test
  void attachedListenersAreTheUnionOverTheParentRefsToTheGateway() {
    var gw =
        gateway(
            listener("a", "HTTP", 80, null),
            listener("b", "HTTP", 81, null),
            listener("c", "HTTP", 82, null));
    allowAll(gw);
    var elsewhere = new ParentReferenceBuilder().withName("other").withNamespace("infra").build();
    assertThat(
            ListenerAttachment.attachedListeners(
                "HTTPRoute",
                "apps",
                List.of(),
                List.of(ref("b", null), ref(null, 80), ref("b", null), elsewhere),
                gw,
                NO_NAMESPACES))
        .containsExactly("b", "a");
  }

  private static ListenerAttachment.Result attach(
      Gateway gw, ParentReference ref, List<String> hostnames) {
    return ListenerAttachment.attach("HTTPRoute", "apps", hostnames, ref, gw, NO_NAMESPACES);
  }

  private static void allowAll(Gateway gw) {
    for (var l : gw.getSpec().getListeners()) {
      l.setAllowedRoutes(
          new io.fabric8.kubernetes.api.model.gatewayapi.v1.AllowedRoutesBuilder()
              .withNewNamespaces()
              .withFrom("All")
              .endNamespaces()
              .build());
    }
  }
}
