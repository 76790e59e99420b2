package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import org.junit.jupiter.api.Test;

/** request-validation's schema patterns are users' regexes: RE2, linear in the body. */
class RequestValidationRegexTest {

  private static ObjectNode json(String s) throws Exception {
    return (ObjectNode) ModelJson.mapper().readTree(s.replace('\'', '"'));
  }

  @Test
  void aCatastrophicPatternIsAnsweredAtOnce() throws Exception {
    var schema =
        RequestValidationPlugin.schema(
            "body_schema", json("{'properties': {'q': {'type': 'string', 'pattern': '^(a+)+$'}}}"));
    var poison = "{\"q\": \"" + "a".repeat(64) + "!\"}";
    assertThat(RequestValidationPlugin.first(schema, poison)).isNotNull();
    assertThat(RequestValidationPlugin.first(schema, "{\"q\": \"aaaa\"}")).isNull();
  }

  @Test
  void aPatternRe2DoesNotRunIsRefusedNamingTheField() {
    assertThatThrownBy(
            () ->
                RequestValidationPlugin.schema(
                    "body_schema",
                    json("{'properties': {'q': {'type': 'string', 'pattern': '^(?!x)'}}}")))
        .isInstanceOf(IllegalArgumentException.class)
        // The meta-schema's format check runs it through the same RE2 factory.
        .hasMessageStartingWith("body_schema: not a valid JSON Schema: /properties/q/pattern: ");
  }
}
