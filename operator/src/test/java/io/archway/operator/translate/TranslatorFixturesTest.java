package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Translator fixtures, side by side in {@code src/test/resources/translate/<case>/}: {@code
 * input.yaml} holds the resource under test (its first document) and what it references; {@code
 * expected.json} holds the etcd items it translates to ({@code items}, by key), its errors and its
 * warnings. Other resources of the same kinds in the file take part in the conflict check.
 *
 * <p>{@code -Darchway.fixtures.update=true} rewrites the expected files from the translators'
 * output; review the diff before committing it.
 */
class TranslatorFixturesTest {

  private static final Path ROOT = Path.of("src", "test", "resources", "translate");

  static Stream<String> cases() throws IOException {
    try (var s = Files.list(ROOT)) {
      return s
          .filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void translatesAsExpected(String name) throws IOException {
    var dir = ROOT.resolve(name);
    // A fixture may say how the operator resolves endpoints: a file named control-plane-discovery.
    var modeFile = dir.resolve("control-plane-discovery");
    var mode =
        Files.exists(modeFile)
            ? Refs.ControlPlaneDiscovery.valueOf(Files.readString(modeFile).strip().toUpperCase())
            : Refs.ControlPlaneDiscovery.OFF;
    var manifests = new Manifests("default", mode).read(dir.resolve("input.yaml"));
    assertThat(manifests.unreadable()).isEmpty();
    var subject = manifests.docs().get(0).resource();
    var t = Translators.translate(subject, manifests).orElseThrow();
    Conflicts.check(
        subject, manifests.docs().stream().map(Manifests.Doc::resource).toList(), manifests, t);
    var actual = render(t);
    if (subject instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute route) {
      // Gateway API routes also report the status written per parent.
      actual.set(
          "status", ModelJson.mapper().valueToTree(HTTPRouteTranslator.status(route, manifests)));
    }
    if (subject instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute route) {
      actual.set(
          "status", ModelJson.mapper().valueToTree(GRPCRouteTranslator.status(route, manifests)));
    }
    if (L4RouteTranslator.of(subject) != null) {
      actual.set(
          "status", ModelJson.mapper().valueToTree(L4RouteTranslator.status(subject, manifests)));
    }
    if (subject instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway gw) {
      // A Gateway whose parameters have a service: the Service Archway keeps for it (the chart's
      // default selector, a dataplane without privileged ports).
      var service =
          GatewayServiceTranslator.service(
              gw,
              GatewayParametersTranslator.admission(gw, manifests).params(),
              (io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus) t.status(),
              GatewayServiceTranslator.Dataplane.DEFAULT);
      if (service != null) {
        actual.set("service", ModelJson.mapper().valueToTree(service));
      }
    }
    var expectedFile = dir.resolve("expected.json");
    var pretty =
        ModelJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(actual) + "\n";
    if (Boolean.getBoolean("archway.fixtures.update")) {
      Files.writeString(expectedFile, pretty);
    }
    assertThat(Files.exists(expectedFile)).as(expectedFile + " exists").isTrue();
    JsonNode expected = ModelJson.mapper().readTree(expectedFile.toFile());
    assertThat(pretty)
        .as(name)
        .isEqualTo(
            ModelJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(expected)
                + "\n");
  }

  static ObjectNode render(Translation t) {
    var out = ModelJson.mapper().createObjectNode();
    var items = out.putObject("items");
    // A resource with errors writes nothing (what it wrote before stays), so no items are shown.
    for (var item : t.ok() ? t.items() : List.<Translation.Item>of()) {
      items.set(item.key(), ModelJson.toTree(item.object()));
    }
    strings(out, "errors", t.errors().stream().map(Translation.FieldError::toString).toList());
    strings(out, "warnings", t.warnings());
    // Gateway API kinds: the status their translators compute (the spec's conditions).
    if (t.status() != null) {
      out.set("status", ModelJson.mapper().valueToTree(t.status()));
    }
    return out;
  }

  private static void strings(ObjectNode out, String name, List<String> values) {
    var arr = out.putArray(name);
    values.forEach(arr::add);
  }
}
