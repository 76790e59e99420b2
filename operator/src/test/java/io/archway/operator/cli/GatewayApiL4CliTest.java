package io.archway.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Keys;
import io.archway.model.source.StandaloneFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code translate} and {@code validate} on GRPCRoute, TLSRoute, TCPRoute and UDPRoute. */
class GatewayApiL4CliTest {

  private static final String BUNDLE = "src/test/resources/gateway-api/l4-bundle.yaml";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void translateWritesTheGrpcRouteAndTheStreamRoutesWithThePolicysPlugins() throws Exception {
    run("translate", "-f", BUNDLE);
    var yaml = out.toString(StandardCharsets.UTF_8);
    var items = StandaloneFile.parse(yaml.getBytes(StandardCharsets.UTF_8), "translated");
    var keys = items.keySet().stream().map(Keys.Key::toString).toList();
    assertThat(keys.stream().filter(k -> k.startsWith("routes/")))
        .singleElement()
        .satisfies(k -> assertThat(k).startsWith("routes/gr_0000000000_default_echo_00_00_"));
    assertThat(keys.stream().filter(k -> k.startsWith("stream_routes/")))
        .hasSize(3)
        .anyMatch(k -> k.startsWith("stream_routes/tlsr_default_db-tls_"))
        .anyMatch(k -> k.startsWith("stream_routes/tcpr_default_pg_"))
        .anyMatch(k -> k.startsWith("stream_routes/udpr_default_dns_"));
    assertThat(yaml)
        .contains("/echo.Echo/Say")
        .contains("scheme: \"grpc\"")
        .contains("sni: \"db.example.com\"")
        .contains("limit-conn");
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("TCPRoute default/two-rules")
        .contains("spec.rules");
  }

  @Test
  void validateReportsTheRouteWithTwoRulesOnly() {
    assertThat(run("validate", "-f", BUNDLE)).isNotZero();
    var report = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    assertThat(report)
        .contains("TCPRoute default/two-rules")
        .doesNotContain("TCPRoute default/pg:")
        .doesNotContain("GRPCRoute default/echo:");
  }
}
