package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each keyword the validator supports, its message, defaults, and what it refuses to load. */
class JsonSchemaTest {

  static JsonNode json(String s) {
    try {
      return ModelJson.mapper().readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  /** The problems of {@code value} against {@code schema}, as text; quotes written as '. */
  static List<String> problems(String schema, String value) {
    var out = new ArrayList<Problem>();
    boolean ok = JsonSchema.parse(json(schema), "test").validate(json(value), "p", out);
    assertThat(ok).as("valid").isEqualTo(out.isEmpty());
    return out.stream().map(Problem::toString).toList();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          {'type': 'string'}                          | 1              | p: 1 (expected: string)
          {'type': 'integer'}                         | 1.5            | p: 1.5 (expected: integer)
          {'type': 'number'}                          | 'x'            | p: "x" (expected: number)
          {'type': 'boolean'}                         | 'true'         | p: "true" (expected: boolean)
          {'type': 'object'}                          | []             | p: [] (expected: object)
          {'type': 'array'}                           | {}             | p: {} (expected: array)
          {'type': 'array', 'items': {'type': 'string'}} | 'a'         | p: "a" (expected: array of strings)
          {'type': 'array', 'items': {'type': 'object'}} | 'a'         | p: "a" (expected: array of objects)
          {'type': ['string', 'integer']}             | true           | p: true (expected: string or integer)
          {'enum': ['a', 'b']}                        | 'c'            | p: "c" (expected: one of a, b)
          {'const': 'a'}                              | 'c'            | p: "c" (expected: a)
          {'type': 'integer', 'minimum': 1}           | 0              | p: 0 (expected: >= 1)
          {'type': 'integer', 'minimum': 1, 'maximum': 2147483647} | -1 | p: -1 (expected: >= 1)
          {'type': 'integer', 'minimum': 200, 'maximum': 599} | 700    | p: 700 (expected: 200..599)
          {'type': 'integer', 'maximum': 5}           | 6              | p: 6 (expected: <= 5)
          {'type': 'number', 'exclusiveMinimum': 0}   | 0              | p: 0 (expected: > 0)
          {'type': 'number', 'exclusiveMaximum': 1.5} | 1.5            | p: 1.5 (expected: < 1.5)
          {'type': 'string', 'minLength': 1, 'maxLength': 3} | 'abcd'  | p: "abcd" (expected: 1 to 3 characters)
          {'type': 'string', 'minLength': 2}          | 'a'            | p: "a" (expected: at least 2 characters)
          {'type': 'string', 'maxLength': 1}          | 'ab'           | p: "ab" (expected: at most 1 characters)
          {'type': 'string', 'pattern': '^https?://'} | 'ftp://x'      | p: "ftp://x" (expected: matches ^https?://)
          {'type': 'array', 'minItems': 1}            | []             | p: [] (expected: at least 1 item(s))
          {'type': 'array', 'maxItems': 1}            | [1, 2]         | p: [1,2] (expected: at most 1 item(s))
          {'type': 'array', 'minItems': 2, 'maxItems': 2} | [1]        | p: [1] (expected: exactly 2 item(s))
          {'type': 'array', 'uniqueItems': true}      | [1, 1]         | p[1]: 1 (expected: no duplicates)
          {'type': 'array', 'items': {'type': 'integer'}} | [1, 'x'] | p[1]: "x" (expected: integer)
          {'format': 'ip-or-cidr'}                    | '10.0.0.0/33'  | p: "10.0.0.0/33" (expected: prefix length 0..32)
          {'format': 'regex'}                         | '('            | p: "(" (expected: a valid regular expression in RE2 syntax, without backreferences or lookaround: missing closing ): `(`)
          {'format': 'id'}                            | true           | p: true (expected: string matching ^[a-zA-Z0-9-_.]{1,64}$)
          {'format': 'regex-pairs'}                   | ['a', 'b', 'c'] | p: odd number of items (expected: pairs of [regex, replacement])
          {'format': 'vars'}                          | 'x'            | p: "x" (expected: array)
          {'not': {'type': 'string'}}                 | 'x'            | p: "x" (expected: not {"type":"string"})
          {'type': 'string', 'x-archway-expected': 'a name'} | 1       | p: 1 (expected: a name)
          {'type': 'string', 'x-archway-message': 'no good'} | 1       | p: no good
          """)
  void eachKeywordSaysWhatItExpected(String schema, String value, String message) {
    assertThat(problems(schema, value)).containsExactly(message);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          {'type': 'integer'}                          | 2.0
          {'type': 'integer', 'minimum': 1}            | 1
          {'type': 'number', 'exclusiveMinimum': 0}    | 0.001
          {'enum': [1, 'a']}                           | 1
          {'type': 'string', 'pattern': 'b'}           | 'abc'
          {'format': 'id'}                             | 12
          {'format': 'id'}                             | 'up-1'
          {'format': 'ip-or-cidr'}                     | '::1/128'
          {'format': 'regex-pairs'}                    | ['^/a(.*)', '/b$1']
          {'format': 'vars'}                           | [['arg_a', '==', '1']]
          {'type': 'array', 'uniqueItems': true}       | [1, 2]
          {'anyOf': [{'type': 'string'}, {'type': 'integer'}]} | 3
          {'allOf': [{'type': 'integer'}, {'minimum': 1}]}     | 3
          {'not': {'type': 'string'}}                  | 3
          """)
  void validValuesPass(String schema, String value) {
    assertThat(problems(schema, value)).isEmpty();
  }

  @Test
  void objectsReportEveryPropertyInOrderThenRulesThenUnknownFields() {
    var schema =
        """
        {'type': 'object',
         'properties': {
           'count': {'type': 'integer', 'minimum': 1, 'x-archway-missing': 'integer > 0'},
           'name': {'type': 'string'},
           'window': {'type': 'integer'},
           'a': {}, 'b': {}},
         'required': ['count', 'name', 'window'],
         'oneOf': [{'required': ['a']}, {'required': ['b']}],
         'additionalProperties': false}
        """;
    assertThat(problems(schema, "{'window': 'x', 'extra': 1, 'more': null}"))
        .containsExactly(
            "p.count: missing (expected: integer > 0)",
            "p.name: missing (expected: string)",
            "p.window: \"x\" (expected: integer)",
            "p: a and b both missing (expected: exactly one of them)",
            "p.extra: unknown field",
            "p.more: unknown field");
    assertThat(problems(schema, "{'count': 1, 'name': 'n', 'window': 1, 'a': 1, 'b': 2}"))
        .containsExactly("p: a and b both set (expected: exactly one of them)");
    // null counts as absent
    assertThat(problems(schema, "{'count': 1, 'name': 'n', 'window': 1, 'a': 1, 'b': null}"))
        .isEmpty();
  }

  @Test
  void nestedPathsAndAdditionalAndPatternProperties() {
    var schema =
        """
        {'type': 'object',
         'properties': {'brokers': {'type': 'array', 'items': {'type': 'object',
             'properties': {'port': {'type': 'integer', 'minimum': 1, 'maximum': 65535}},
             'additionalProperties': false}}},
         'patternProperties': {'^x-': {'type': 'string'}},
         'additionalProperties': {'type': 'integer'}}
        """;
    assertThat(
            problems(
                schema, "{'brokers': [{'port': 1}, {'port': 0, 'host': 'h'}], 'x-a': 1, 'n': 'x'}"))
        .containsExactly(
            "p.brokers[1].port: 0 (expected: 1..65535)",
            "p.brokers[1].host: unknown field",
            "p.x-a: 1 (expected: string)",
            "p.n: \"x\" (expected: integer)");
  }

  @Test
  void anyOfOfRequiredNamesTheMissingFields() {
    assertThat(problems("{'anyOf': [{'required': ['abort']}, {'required': ['delay']}]}", "{}"))
        .containsExactly("p: abort and delay both missing (expected: at least one of them)");
    assertThat(
            problems(
                "{'anyOf': [{'required': ['a']}, {'required': ['b']}, {'required': ['c']}]}", "{}"))
        .containsExactly("p: a, b and c all missing (expected: at least one)");
    assertThat(
            problems(
                "{'oneOf': [{'required': ['a']}, {'required': ['b']}],"
                    + " 'x-archway-message': 'expected exactly one of a, b'}",
                "{}"))
        .containsExactly("p: expected exactly one of a, b");
  }

  @Test
  void alternativesThatAreNotRequiredListsReportTheFirstOfTheValuesType() {
    var schema =
        "{'anyOf': [{'type': 'string', 'pattern': '^a'}, {'type': 'integer', 'minimum': 1}]}";
    assertThat(problems(schema, "'b'")).containsExactly("p: \"b\" (expected: matches ^a)");
    assertThat(problems(schema, "0")).containsExactly("p: 0 (expected: >= 1)");
    assertThat(problems(schema, "true")).containsExactly("p: true (expected: string or integer)");
    assertThat(problems("{'oneOf': [{'type': 'integer'}, {'type': 'number'}]}", "1"))
        .containsExactly("p: 1 (expected: exactly one of 2 alternatives)");
  }

  @Test
  void defaultsAreFilledInAbsentPropertiesAtEveryDepth() {
    var schema =
        JsonSchema.parse(
            json(
                """
                {'type': 'object', 'properties': {
                  'header': {'type': 'string', 'default': 'apikey'},
                  'set': {'type': 'string', 'default': 'x'},
                  'range': {'type': 'object', 'default': {},
                     'properties': {'length': {'type': 'integer', 'default': 16}}},
                  'rules': {'type': 'array', 'items': {'type': 'object',
                     'properties': {'weight': {'type': 'integer', 'default': 1}}}}}}
                """),
            "test");
    var value = json("{'set': 'y', 'rules': [{}, {'weight': 5}], 'header': null}");
    var filled = schema.withDefaults(value);
    assertThat(filled)
        .isEqualTo(
            json(
                "{'set': 'y', 'rules': [{'weight': 1}, {'weight': 5}], 'header': 'apikey',"
                    + " 'range': {'length': 16}}"));
    assertThat(value)
        .as("the value itself is not changed")
        .isEqualTo(json("{'set': 'y', 'rules': [{}, {'weight': 5}], 'header': null}"));
  }

  @Test
  void aSchemaWithAKeywordOrFormatItDoesNotSupportIsRefusedWhenLoaded() {
    assertThatThrownBy(
            () -> JsonSchema.parse(json("{'type': 'object', 'propertyNames': {}}"), "f.json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("f.json: #: unsupported keyword \"propertyNames\"");
    assertThatThrownBy(
            () -> JsonSchema.parse(json("{'properties': {'a': {'items': {'if': {}}}}}"), "f.json"))
        .hasMessage("f.json: #/properties/a/items: unsupported keyword \"if\"");
    assertThatThrownBy(() -> JsonSchema.parse(json("{'format': 'email'}"), "f.json"))
        .hasMessage("f.json: #: unsupported format \"email\"");
    assertThatThrownBy(() -> JsonSchema.parse(json("{'type': 'int'}"), "f.json"))
        .hasMessage("f.json: #: unsupported type \"int\"");
    assertThatThrownBy(() -> JsonSchema.parse(json("{'items': [{}]}"), "f.json"))
        .hasMessage("f.json: #: items: only a single schema is supported");
    assertThatThrownBy(() -> JsonSchema.parse(json("{'pattern': '('}"), "f.json"))
        .hasMessageStartingWith("f.json: #: pattern (: Unclosed group");
    assertThatThrownBy(() -> JsonSchema.parse(json("{'minimum': '1'}"), "f.json"))
        .hasMessage("f.json: #: minimum must be a number (draft-07)");
  }
}
