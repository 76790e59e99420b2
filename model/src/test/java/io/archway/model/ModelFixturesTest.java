package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.testing.Fixtures;
import io.archway.model.testing.Fixtures.Fixture;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ModelFixturesTest {

  static Stream<Fixture> valid() {
    return Fixtures.valid().stream();
  }

  static Stream<Fixture> invalid() {
    return Fixtures.invalid().stream();
  }

  /** Numbers compare by value: {@code 6} and {@code 6.0} are the same setting. */
  static final Comparator<JsonNode> NUMERIC =
      (a, b) -> {
        if (a.equals(b)) {
          return 0;
        }
        if (a.isNumber() && b.isNumber()) {
          return a.decimalValue().compareTo(b.decimalValue());
        }
        return 1;
      };

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void validFixtureParsesAndSerialisesBackEqual(Fixture fixture) throws Exception {
    var json = fixture.json();
    var obj = ModelJson.read(fixture.kind(), json, null, fixture.toString());

    assertThat(obj).isInstanceOf(fixture.kind().type());
    var back = ModelJson.toTree(obj);
    assertThat(back.equals(NUMERIC, json))
        .as("serialised back:\n%s\noriginal:\n%s", back.toPrettyString(), json.toPrettyString())
        .isTrue();
    assertThat(ModelJson.read(fixture.kind(), ModelJson.toBytes(obj), obj.id(), "again"))
        .isEqualTo(obj);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void invalidFixtureYieldsExactlyTheExpectedProblems(Fixture fixture) {
    var json = fixture.json();
    assertThatThrownBy(() -> ModelJson.read(fixture.kind(), json, null, fixture.toString()))
        .isInstanceOfSatisfying(
            ValidationException.class,
            e ->
                assertThat(e.lines())
                    .containsExactlyInAnyOrderElementsOf(fixture.expectedProblems()));
  }
}
