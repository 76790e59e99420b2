package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

class FieldsShowTest {

  @Test
  void aHugeStringIsShownByItsStartAsASmallOneIs() {
    var shown = Fields.show(TextNode.valueOf("x".repeat(1_000_000)));
    assertThat(shown).isEqualTo("\"" + "x".repeat(63) + "…");
    assertThat(Fields.show(TextNode.valueOf("a\"b"))).isEqualTo("\"a\\\"b\"");
    // Cut before quoting, the start is quoted as it would have been.
    assertThat(Fields.show(TextNode.valueOf("\"".repeat(100))))
        .isEqualTo("\"" + "\\\"".repeat(31) + "\\…");
  }
}
