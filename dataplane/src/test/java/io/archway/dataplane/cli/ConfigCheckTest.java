package io.archway.dataplane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.Kind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code --check FILE}: every problem with the line of the field at fault, each pass (the file, the
 * plugins, the references) as serving the file would find it, and the examples that ship check
 * clean.
 */
class ConfigCheckTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  private static List<ConfigCheck.Finding> check(String yaml) {
    return check(yaml, Map.of());
  }

  private static List<ConfigCheck.Finding> check(String yaml, Map<String, String> env) {
    var found = new ArrayList<ConfigCheck.Finding>();
    ConfigCheck.check(
        yaml.getBytes(StandardCharsets.UTF_8), "apisix.yaml", env::get, REGISTRY, found);
    return found;
  }

  @Test
  void theModelsProblemsComeWithTheLineOfTheirField() {
    var found =
        check(
            """
            routes:
              - id: hello
                uri: hello
                upstream:
                  nodes:
                    "127.0.0.1:80": 1
                  retries: -3
            upstreams:
              - id: u
                nodes:
                  - host: 10.0.0.1
                    port: 70000
                    weight: 1
                  - port: 80
            #END
            """);
    assertThat(found)
        .containsExactlyInAnyOrder(
            new ConfigCheck.Finding(
                3, "routes/hello: uri: \"hello\" (expected: starts with \"/\")"),
            new ConfigCheck.Finding(7, "routes/hello: upstream.retries: -3 (expected: >= 0)"),
            new ConfigCheck.Finding(12, "upstreams/u: nodes[0].port: 70000 (expected: 1..65535)"),
            // A missing field is placed at the object that lacks it.
            new ConfigCheck.Finding(14, "upstreams/u: nodes[1].host: missing (expected: string)"),
            new ConfigCheck.Finding(
                14, "upstreams/u: nodes[1].weight: missing (expected: integer 0..65535)"));
  }

  @Test
  void pluginSettingsAreCheckedByThePluginsSchemaOnceTheObjectsRead() {
    var found =
        check(
            """
            routes:
              - uri: /a
                plugins:
                  limit-count:
                    count: -1
                    time_window: 60
                  no-such-plugin: {}
                upstream_id: u
            upstreams:
              - id: u
                nodes: {"127.0.0.1:80": 1}
            consumers:
              - username: jack
                plugins:
                  key-auth:
                    key: 5
            #END
            """);
    assertThat(found).extracting(ConfigCheck.Finding::line).containsExactlyInAnyOrder(5, 7, 16);
    assertThat(found.get(0).text()).startsWith("routes/1: plugins.limit-count.count: -1");
    assertThat(found)
        .anySatisfy(f -> assertThat(f.text()).startsWith("routes/1: plugins.no-such-plugin: "))
        .anySatisfy(
            f -> assertThat(f.text()).startsWith("consumers/jack: plugins.key-auth.key: 5"));
  }

  @Test
  void aRegexRe2DoesNotRunIsAProblemOnItsLine() {
    var vars =
        check(
            """
            routes:
              - uri: /a
                vars:
                  - ["http_x_id", "~*", "(a)\\\\1"]
                upstream_id: u
            upstreams:
              - id: u
                nodes: {"127.0.0.1:80": 1}
            #END
            """);
    assertRe2Problem(vars, 4, "routes[0]: vars[0][2]: \"(a)\\\\1\" (expected: a valid regular");
    var plugin =
        check(
            """
            routes:
              - uri: /b
                plugins:
                  redirect:
                    regex_uri: ["^/(?=b)", "/c"]
                upstream_id: u
            upstreams:
              - id: u
                nodes: {"127.0.0.1:80": 1}
            #END
            """);
    assertRe2Problem(plugin, 5, "routes/1: plugins.redirect.regex_uri[0]: \"^/(?=b)\"");
  }

  private static void assertRe2Problem(List<ConfigCheck.Finding> found, int line, String start) {
    assertThat(found).singleElement().extracting(ConfigCheck.Finding::line).isEqualTo(line);
    assertThat(found.get(0).text()).startsWith(start).contains("RE2 syntax");
  }

  @Test
  void aReferenceToAnObjectTheFileDoesNotHoldIsAProblem() {
    var found =
        check(
            """
            routes:
              - id: a
                uri: /a
                upstream_id: missing
                service_id: s
            services:
              - id: s
                upstream_id: u
            upstreams:
              - id: u
                nodes: {"127.0.0.1:80": 1}
            consumers:
              - username: jack
                group_id: nobody
            #END
            """);
    assertThat(found)
        .containsExactly(
            new ConfigCheck.Finding(
                4,
                "routes/a: upstream_id: \"missing\" is not in the file (expected: the id of one of"
                    + " its upstreams)"),
            new ConfigCheck.Finding(
                14,
                "consumers/jack: group_id: \"nobody\" is not in the file (expected: the id of one"
                    + " of its consumer_groups)"));
  }

  @Test
  void theFilesOwnProblemsHaveTheirLines() {
    assertThat(check("routes:\n  - id: [a\n#END\n"))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.line()).isPositive();
              assertThat(f.text()).startsWith("not valid YAML: while parsing a flow sequence");
            });
    assertThat(check("routes: []\n"))
        .containsExactly(
            new ConfigCheck.Finding(
                1, "no final #END line (expected: a complete write ending with #END)"));
    assertThat(check("routes:\n  - uri: /${{PREFIX}}\n    upstream_id: u\n#END\n"))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.line()).isEqualTo(2);
              assertThat(f.text()).contains("environment variable PREFIX is not set");
            });
    assertThat(check("routes:\n  - uri: /a\n    upstream_id: u\nroutez: []\n#END\n"))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.line()).isEqualTo(4);
              assertThat(f.text()).startsWith("routez: unknown section");
            });
  }

  @Test
  void theExamplesCheckClean() throws Exception {
    for (var name :
        List.of("quickstart.yaml", "https.yaml", "pluginflow.yaml", "kafka-pubsub.yaml")) {
      var file = Path.of("../examples", name);
      var found = new ArrayList<ConfigCheck.Finding>();
      var counts = ConfigCheck.check(Files.readAllBytes(file), name, n -> "x", REGISTRY, found);
      assertThat(found).as(name).isEmpty();
      assertThat(counts).as(name).containsKey(Kind.ROUTES);
    }
  }
}
