package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Lines of values in a YAML document, by JSON pointer, and model paths turned into pointers. */
class YamlLinesTest {

  private static final String DOC =
      """
      routes:
        - id: a
          uris:
            - /a
            - /b
          plugins:
            key-auth: {}
          upstream:
            nodes:
              "127.0.0.1:80": 1
      #END
      """;

  @Test
  void eachValueHasTheLineOfItsKey() {
    var lines = YamlLines.of(DOC);
    assertThat(lines.line("/routes")).isEqualTo(1);
    assertThat(lines.line("/routes/0")).isEqualTo(2);
    assertThat(lines.line("/routes/0/uris/1")).isEqualTo(5);
    assertThat(lines.line("/routes/0/plugins/key-auth")).isEqualTo(7);
    // Not there: the nearest ancestor that is.
    assertThat(lines.line("/routes/0/plugins/key-auth/key")).isEqualTo(7);
    assertThat(lines.line("/nothing")).isEqualTo(1); // the document itself
    assertThat(YamlLines.of("").line("/nothing")).isZero();
  }

  @Test
  void modelPathsBecomePointers() {
    assertThat(YamlLines.pointer("/routes/0", "plugins.limit-count.count"))
        .isEqualTo("/routes/0/plugins/limit-count/count");
    assertThat(YamlLines.pointer("/upstreams/2", "nodes[1].host"))
        .isEqualTo("/upstreams/2/nodes/1/host");
    assertThat(YamlLines.pointer("/routes/0", "")).isEqualTo("/routes/0");
    assertThat(YamlLines.pointer("", "a/b~c")).isEqualTo("/a~1b~0c");
    // A name with dots (a node's address) lands on its parent, the closest line there is.
    var lines = YamlLines.of(DOC);
    assertThat(lines.line(YamlLines.pointer("/routes/0", "upstream.nodes.127.0.0.1:80")))
        .isEqualTo(9);
  }

  @Test
  void aDocumentThatStopsParsingStillPlacesWhatCameBefore() {
    var lines = YamlLines.of("routes:\n  - id: a\n    uri: [x\n");
    assertThat(lines.line("/routes/0")).isEqualTo(2);
  }
}
