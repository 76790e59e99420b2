package io.archway.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Keys;
import io.archway.model.source.StandaloneFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code translate} and {@code validate} on a Gateway API bundle. */
class GatewayApiCliTest {

  private static final String BUNDLE = "src/test/resources/gateway-api/bundle.yaml";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void translateWritesTheRoutesOfTheValidHttpRoutesAndSaysWhichAreLeftOut() throws Exception {
    run("translate", "-f", BUNDLE);
    var yaml = out.toString(StandardCharsets.UTF_8);
    var items = StandaloneFile.parse(yaml.getBytes(StandardCharsets.UTF_8), "translated");
    var keys = items.keySet().stream().map(Keys.Key::toString).toList();
    assertThat(keys.stream().filter(k -> k.startsWith("routes/")))
        .singleElement()
        .satisfies(k -> assertThat(k).startsWith("routes/hr_0000000000_default_shop_00_00_"));
    // The Gateway's listeners, each a port the dataplane opens.
    assertThat(keys.stream().filter(k -> !k.startsWith("routes/")))
        .containsExactlyInAnyOrder("listeners/default_gw_http", "listeners/default_gw_admin");
    assertThat(yaml).contains("shop.example.com").contains("server_port");
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("HTTPRoute default/broken")
        .contains("spec.rules[0].matches[0].path.value");
  }

  @Test
  void validateReportsTheRouteWithTheBadRegexOnly() {
    assertThat(run("validate", "-f", BUNDLE)).isNotZero();
    var report = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    assertThat(report)
        .contains("HTTPRoute default/broken")
        .doesNotContain("HTTPRoute default/shop:");
  }

  @Test
  void validateNamesTheBadFieldsOfGatewayParametersAndTheClassNamingThem() {
    assertThat(
            run(
                "validate",
                "-f",
                "src/test/resources/translate/gwc-gatewayparameters-invalid/input.yaml"))
        .isNotZero();
    var report = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    assertThat(report)
        .contains("GatewayParameters infra/platform")
        .contains("spec.service.type: ExternalName")
        .contains("GatewayClass archway")
        .contains("spec.parametersRef: GatewayParameters infra/platform is not valid");
  }
}
