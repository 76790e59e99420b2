package io.archway.dataplane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.BuildInfo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user meets it: help, version, and what a typo gets. */
class MainTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpListsEveryOptionWithItsValueAndDefault() {
    assertThat(run("--help")).isZero();
    assertThat(out()).startsWith("Usage: java -jar archway-dataplane.jar [options]");
    for (var option : DataplaneCommand.OPTIONS) {
      assertThat(out()).contains("  " + option + " ");
    }
    assertThat(out())
        .contains("--http-port N")
        .contains("HTTP listener (default: 9080)")
        .contains("--stream-port N[,N...]")
        .contains("-h, --help")
        .contains("-V, --version");
    assertThat(err()).isEmpty();
    out.reset();
    assertThat(run("-h")).isZero();
    assertThat(out()).startsWith("Usage: java -jar archway-dataplane.jar");
  }

  @Test
  void anUnknownOptionIsAUsageErrorWithSuggestions() {
    assertThat(run("--http-prot", "8080")).isEqualTo(2);
    assertThat(err())
        .contains("archway-dataplane: unknown option --http-prot (expected one of the options in")
        .containsPattern("(Did you mean|Possible solutions).*--http-port")
        .contains("Try --help.");
    assertThat(out()).isEmpty();
  }

  @Test
  void aMissingValueAndAStrayArgumentAreUsageErrors() {
    assertThat(run("--http-port")).isEqualTo(2);
    assertThat(err()).contains("archway-dataplane: --http-port needs a value (see --help)");
    err.reset();
    assertThat(run("--http-port", "--status-port", "9000")).isEqualTo(2);
    assertThat(err()).contains("--http-port needs a value (see --help)");
    err.reset();
    assertThat(run("apisix.yaml")).isEqualTo(2);
    assertThat(err()).contains("unexpected argument \"apisix.yaml\"");
  }

  @Test
  void versionSaysTheProductVersionAndCommit() {
    assertThat(run("--version")).isZero();
    var info = BuildInfo.current();
    assertThat(out().strip())
        .isEqualTo("archway-dataplane " + info.version() + " (commit " + info.commit() + ")");
    assertThat(info.version()).doesNotContain("${").isNotEqualTo(BuildInfo.UNKNOWN);
    out.reset();
    assertThat(run("--etcd", "http://h:1", "-V")).isZero();
    assertThat(out()).startsWith("archway-dataplane ");
  }

  @Test
  void checkPrintsEachProblemWithItsFileAndLineAndStartsNothing(@TempDir Path dir)
      throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes:\n  - id: a\n    uri: a\n    upstream_id: u\n#END\n");
    assertThat(run("--check", file.toString())).isEqualTo(1);
    assertThat(err())
        .contains(file + ":3: routes/a: uri: \"a\" (expected: starts with \"/\")")
        .contains(file + ": 1 problem (nothing was started");
    assertThat(out()).isEmpty();
    err.reset();
    Files.writeString(
        file,
        "routes:\n  - id: a\n    uri: /a\n    upstream_id: u\nupstreams:\n  - id: u\n"
            + "    nodes: {\"127.0.0.1:80\": 1}\n#END\n");
    assertThat(run("--check", file.toString())).isZero();
    assertThat(out()).isEqualTo(file + ": OK, routes: 1, upstreams: 1\n");
    assertThat(err()).isEmpty();
  }

  @Test
  void checkOfAFileThatIsNotThereOrWithOtherOptionsIsRefused() {
    assertThat(run("--check", "/nonexistent/apisix.yaml")).isEqualTo(1);
    assertThat(err()).isEqualTo("/nonexistent/apisix.yaml: no such file\n");
    err.reset();
    assertThat(run("--check", "a.yaml", "--http-port", "1")).isEqualTo(2);
    assertThat(err()).contains("--check takes a file and no other option");
  }
}
