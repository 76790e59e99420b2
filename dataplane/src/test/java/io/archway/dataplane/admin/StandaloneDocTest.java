package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

class StandaloneDocTest {

  @Test
  void readsFilesBeyondSnakeYamlsDefaultThreeMebibytes() throws Exception {
    var yaml = new StringBuilder("routes:\n");
    int n = 0;
    while (yaml.length() < 4 * 1024 * 1024) {
      yaml.append("  - {\"id\": \"r").append(n++).append("\", \"uri\": \"/r/").append(n);
      yaml.append("\", \"upstream_id\": \"u\"}\n");
    }
    yaml.append("#END\n");
    var problems = new ArrayList<String>();
    var items = StandaloneDoc.items(StandaloneDoc.YAML.readTree(yaml.toString()), "f", problems);
    assertThat(problems).isEmpty();
    assertThat(items).hasSize(n);
  }

  @Test
  void readsEverySectionAndWritesItBack() throws Exception {
    var yaml =
        """
        routes:
          - uri: /a
            upstream_id: u
        upstreams:
          - id: u
            nodes:
              "127.0.0.1:1": 1
        consumers:
          - username: jack
        credentials:
          - id: jack/credentials/c1
            plugins:
              key-auth:
                key: k
        secrets:
          - id: vault/1
            uri: http://127.0.0.1:8200
        routes_conf_version: 7
        #END
        """;
    var problems = new ArrayList<String>();
    var items = StandaloneDoc.items(StandaloneDoc.YAML.readTree(yaml), "f", problems);
    assertThat(problems).isEmpty();
    assertThat(items)
        .containsOnlyKeys(
            "routes/1",
            "upstreams/u",
            "consumers/jack",
            "consumers/jack/credentials/c1",
            "secrets/vault/1");
    assertThat(items.get("consumers/jack/credentials/c1").get("id").asText()).isEqualTo("c1");
    var written = new String(StandaloneDoc.yaml(items), StandardCharsets.UTF_8);
    assertThat(written).endsWith("#END\n").contains("id: \"jack/credentials/c1\"");
    // Written back in APISIX's form: in consumers:, after the consumer.
    assertThat(written).doesNotContain("credentials:");
    assertThat(written.indexOf("username: \"jack\""))
        .isLessThan(written.indexOf("jack/credentials/c1"));
    var again = StandaloneDoc.items(StandaloneDoc.YAML.readTree(written), "f", problems);
    assertThat(problems).isEmpty();
    assertThat(again).isEqualTo(items);
  }

  @Test
  void problemsNameTheFileSectionAndObject() throws Exception {
    var problems = new ArrayList<String>();
    StandaloneDoc.items(
        StandaloneDoc.YAML.readTree(
            "routes:\n  - uri: nope\n    upstream_id: u\nnope: []\nsecrets:\n  - id: x\n"),
        "f",
        problems);
    assertThat(problems)
        .anyMatch(p -> p.startsWith("f: routes[0]: uri: \"nope\""))
        .anyMatch(p -> p.startsWith("f: nope: unknown section"))
        .anyMatch(p -> p.contains("secrets/x: id: \"x\" (expected: <manager>/<id>)"));
  }
}
