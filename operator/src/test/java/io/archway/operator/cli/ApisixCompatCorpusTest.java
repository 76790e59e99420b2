package io.archway.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The APISIX compatibility corpus's Kubernetes manifests ({@code
 * model/src/test/resources/apisix-compat/aic/<Kind>/*.yaml}, one unit each, written in the APISIX
 * Ingress Controller's documented shapes) through {@code archway-operator validate}. A unit is
 * accepted when validate exits 0 having checked at least one resource. Prints the ratio and fails
 * if fewer are accepted than {@code accepted.properties} records.
 */
class ApisixCompatCorpusTest {

  static final Path CORPUS = Path.of("..", "model", "src", "test", "resources", "apisix-compat");

  @Test
  void manifestAcceptanceDoesNotGoDown() throws IOException {
    var results = new TreeMap<String, String>();
    try (Stream<Path> files = Files.walk(CORPUS.resolve("aic"))) {
      for (var f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        var out = new ByteArrayOutputStream();
        var ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = Main.run(new String[] {"validate", "-f", f.toString()}, ps, ps);
        var text = out.toString(StandardCharsets.UTF_8);
        boolean ok = code == 0 && !text.contains(" 0 resource(s) checked");
        results.put(CORPUS.resolve("aic").relativize(f).toString(), ok ? null : text.strip());
      }
    }
    long accepted = results.values().stream().filter(v -> v == null).count();
    var report = new StringBuilder();
    results.forEach(
        (unit, problems) ->
            report
                .append(problems == null ? "  accepted  " : "  refused   ")
                .append(unit)
                .append(problems == null ? "" : ": " + problems.replace('\n', ' '))
                .append('\n'));
    System.out.printf(
        "APISIX compatibility corpus, AIC manifests: %d of %d accepted (%.1f%%)%n%s",
        accepted, results.size(), 100.0 * accepted / results.size(), report);
    assertThat(results).isNotEmpty();
    var p = new Properties();
    try (Reader r = Files.newBufferedReader(CORPUS.resolve("accepted.properties"))) {
      p.load(r);
    }
    assertThat(accepted)
        .as(report.toString())
        .isGreaterThanOrEqualTo(Long.parseLong(p.getProperty("aic").strip()));
  }
}
