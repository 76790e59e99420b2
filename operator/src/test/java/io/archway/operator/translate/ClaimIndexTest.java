package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.crds.archway.PluginFlow;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClaimIndexTest {

  private static final String OLD = "2026-11-01T10:00:00Z";
  private static final String NEW = "2026-11-02T10:00:00Z";

  /** Refs with nothing but the HTTPRoutePolicies of the list, which a test may change. */
  private static final class Policies implements Refs {
    final List<HTTPRoutePolicy> list = new ArrayList<>();

    @Override
    public Optional<Service> service(String namespace, String name) {
      return Optional.empty();
    }

    @Override
    public Optional<Secret> secret(String namespace, String name) {
      return Optional.empty();
    }

    @Override
    public Optional<ApisixUpstream> apisixUpstream(String namespace, String name) {
      return Optional.empty();
    }

    @Override
    public Optional<PluginFlow> pluginFlow(String namespace, String name) {
      return Optional.empty();
    }

    @Override
    public List<HTTPRoutePolicy> httpRoutePolicies(String namespace) {
      return list.stream().filter(p -> namespace.equals(p.getMetadata().getNamespace())).toList();
    }
  }

  private static ApisixRoute route(String name, String created, String path, String methods) {
    return Serialization.unmarshal(
        "apiVersion: apisix.apache.org/v2\nkind: ApisixRoute\n"
            + ("metadata: {name: " + name + ", namespace: shop, creationTimestamp: '")
            + (created + "'}\nspec:\n  http:\n  - name: main\n")
            + ("    match: {hosts: [a.example.com], paths: [" + path + "]")
            + (methods == null ? "" : ", methods: [" + methods + "]")
            + "}\n    backends: [{serviceName: web, servicePort: 80}]\n",
        ApisixRoute.class);
  }

  private static Ingress ingress(String name, String created) {
    return Serialization.unmarshal(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
            + ("metadata: {name: " + name + ", namespace: shop, creationTimestamp: '")
            + (created + "'}\nspec:\n  rules:\n  - host: a.example.com\n    http:\n")
            + "      paths: [{path: /shop, pathType: Exact, backend: {service: {name: web, port:"
            + " {number: 80}}}}]\n",
        Ingress.class);
  }

  private static HTTPRoutePolicy policy(String target) {
    return Serialization.unmarshal(
        "apiVersion: apisix.apache.org/v1alpha1\nkind: HTTPRoutePolicy\n"
            + "metadata: {name: canary, namespace: shop}\n"
            + ("spec:\n  targetRefs: [{group: networking.k8s.io, kind: Ingress, name: " + target)
            + "}]\n  priority: 100\n  vars: [[http_x_canary, \"==\", \"always\"]]\n",
        HTTPRoutePolicy.class);
  }

  private static Translation check(ClaimIndex index, HasMetadata r, Refs refs) {
    var t = new Translation();
    index.check(r, Translators.claims(r, refs), t);
    return t;
  }

  private static Translation check(ClaimIndex index, HasMetadata r) {
    return check(index, r, null);
  }

  @Test
  void theOlderKeepsTheClaimAndTheMessageNamesItAndItsField() {
    var older = route("older", OLD, "/shop/*", null);
    var newer = route("newer", NEW, "/shop/*", null);
    var index = ClaimIndex.of(List.of(newer, older), null);

    assertThat(check(index, newer).refusal()).hasValue(Translation.Cause.CONFLICT);
    assertThat(check(index, newer).errorMessage())
        .isEqualTo(
            "spec.http[0].match: host a.example.com path /shop/* is already served by ApisixRoute"
                + " shop/older (spec.http[0]), which is older (expected: each host and path"
                + " served by one resource)");
    assertThat(check(index, older).refusal()).isEmpty();
  }

  @Test
  void aRivalNeverCheckedStillWinsWhenOlder() {
    // The index holds what the cache holds: the older route counts before any reconcile of it.
    var index = new ClaimIndex(null);
    index.put(route("older", OLD, "/shop/*", null));
    var newer = route("newer", NEW, "/shop/*", null);
    assertThat(check(index, newer).errorMessage()).contains("ApisixRoute shop/older");
  }

  @Test
  void rivalsAddedUpdatedAndDeletedAreFollowed() {
    var index = new ClaimIndex(null);
    var newer = route("newer", NEW, "/shop/*", null);
    index.put(newer);
    assertThat(check(index, newer).refusal()).isEmpty();

    index.put(route("older", OLD, "/shop/*", null));
    assertThat(check(index, newer).refusal()).isNotEmpty();

    index.put(route("older", OLD, "/cart/*", null));
    assertThat(check(index, newer).refusal()).isEmpty();
    assertThat(check(index, route("cart", NEW, "/cart/*", null)).refusal()).isNotEmpty();

    index.put(route("older", OLD, "/shop/*", null));
    assertThat(check(index, newer).refusal()).isNotEmpty();

    index.remove(route("older", OLD, "/shop/*", null));
    assertThat(check(index, newer).refusal()).isEmpty();
    index.remove(newer);
    assertThat(index.size()).isZero();
  }

  @Test
  void aRivalBeingDeletedHoldsNothing() {
    var older = route("older", OLD, "/shop/*", null);
    older.getMetadata().setDeletionTimestamp(NEW);
    var index = ClaimIndex.of(List.of(older), null);
    assertThat(check(index, route("newer", NEW, "/shop/*", null)).refusal()).isEmpty();
  }

  @Test
  void ageIsCreationTimeThenKindNamespaceAndName() {
    var index = new ClaimIndex(null);
    index.put(route("b", OLD, "/shop/*", null));
    index.put(route("a", OLD, "/shop/*", null));
    assertThat(check(index, route("b", OLD, "/shop/*", null)).errorMessage())
        .contains("ApisixRoute shop/a");
    assertThat(check(index, route("a", OLD, "/shop/*", null)).refusal()).isEmpty();

    // At the same time, an ApisixRoute is older than an Ingress.
    var same = new ClaimIndex(null);
    same.put(route("r", OLD, "/shop", null));
    same.put(ingress("i", OLD));
    assertThat(check(same, ingress("i", OLD)).errorMessage()).contains("ApisixRoute shop/r");
    assertThat(check(same, route("r", OLD, "/shop", null)).refusal()).isEmpty();
  }

  @Test
  void onlyOverlappingMethodsConflict() {
    var index = ClaimIndex.of(List.of(route("older", OLD, "/shop/*", "GET, POST")), null);
    assertThat(check(index, route("newer", NEW, "/shop/*", "PUT")).refusal()).isEmpty();
    assertThat(check(index, route("newer", NEW, "/shop/*", "POST")).refusal()).isNotEmpty();
    assertThat(check(index, route("newer", NEW, "/shop/*", null)).refusal()).isNotEmpty();
  }

  @Test
  void aPolicyChangeTellsTheClaimsApartOrNot() {
    var refs = new Policies();
    refs.list.add(policy("older"));
    var index = ClaimIndex.of(List.of(ingress("older", OLD)), refs);
    var newer = ingress("newer", NEW);
    // The older one's vars and priority tell the two apart.
    assertThat(check(index, newer, refs).refusal()).isEmpty();

    refs.list.clear();
    index.refsChanged("shop");
    assertThat(check(index, newer, refs).errorMessage()).contains("Ingress shop/older");

    refs.list.add(policy("newer"));
    index.refsChanged("shop");
    assertThat(check(index, newer, refs).refusal()).isEmpty();
  }

  @Test
  void theOldestRivalIsNamedWhateverOrderTheyCameIn() {
    var index =
        ClaimIndex.of(
            List.of(
                route("second", "2026-10-01T10:00:00Z", "/shop/*", null),
                route("first", "2026-09-01T10:00:00Z", "/shop/*", null)),
            null);
    assertThat(check(index, route("newer", NEW, "/shop/*", null)).errorMessage())
        .contains("ApisixRoute shop/first");
  }
}
