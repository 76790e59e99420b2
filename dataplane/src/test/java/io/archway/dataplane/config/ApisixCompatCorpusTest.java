package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The APISIX compatibility corpus's standalone files ({@code
 * model/src/test/resources/apisix-compat/standalone/<section>/*.yaml}, one unit each, written in
 * APISIX's documented shapes) loaded as the dataplane loads them. A file is accepted when every
 * object in it is in force; anything refused counts against it, never skipped silently. Prints the
 * ratio and fails if fewer are accepted than {@code accepted.properties} records.
 */
class ApisixCompatCorpusTest {

  static final Path CORPUS = Path.of("..", "model", "src", "test", "resources", "apisix-compat");

  @Test
  void standaloneAcceptanceDoesNotGoDown() throws IOException {
    var results = new TreeMap<String, java.util.List<String>>();
    try (var check = new StandaloneCheck();
        Stream<Path> files = Files.walk(CORPUS.resolve("standalone"))) {
      for (var f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        results.put(
            CORPUS.resolve("standalone").relativize(f).toString(),
            check.problems(Files.readString(f)));
      }
    }
    long accepted = results.values().stream().filter(java.util.List::isEmpty).count();
    var report = new StringBuilder();
    results.forEach(
        (unit, problems) ->
            report
                .append(problems.isEmpty() ? "  accepted  " : "  refused   ")
                .append(unit)
                .append(problems.isEmpty() ? "" : ": " + String.join("; ", problems))
                .append('\n'));
    System.out.printf(
        "APISIX compatibility corpus, standalone: %d of %d accepted (%.1f%%)%n%s",
        accepted, results.size(), 100.0 * accepted / results.size(), report);
    assertThat(results).isNotEmpty();
    assertThat(accepted).as(report.toString()).isGreaterThanOrEqualTo(recorded("standalone"));
  }

  static long recorded(String key) throws IOException {
    var p = new Properties();
    try (Reader r = Files.newBufferedReader(CORPUS.resolve("accepted.properties"))) {
      p.load(r);
    }
    return Long.parseLong(p.getProperty(key).strip());
  }
}
