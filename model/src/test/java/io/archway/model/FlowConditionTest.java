package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.model.FlowCondition.And;
import io.archway.model.FlowCondition.Compare;
import io.archway.model.FlowCondition.Not;
import io.archway.model.FlowCondition.Op;
import io.archway.model.FlowCondition.Or;
import io.archway.model.FlowCondition.Present;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FlowConditionTest {

  @Test
  void parsesComparisonsWithAndBindingTighterThanOr() {
    var e = FlowCondition.parse("code == 401 or code >= 500 and not consumer");
    assertThat(e).isInstanceOf(Or.class);
    var or = (Or) e;
    assertThat(or.terms().get(0)).isEqualTo(new Compare("code", Op.EQ, "401", 401.0, null));
    var and = (And) or.terms().get(1);
    assertThat(((Compare) and.terms().get(0)).op()).isEqualTo(Op.GE);
    assertThat(and.terms().get(1)).isEqualTo(new Not(new Present("consumer")));
  }

  @Test
  void parenthesesStringsRegexesAndNil() {
    var e = (And) FlowCondition.parse("(arg_a == 'x y' or http_x_k ~= \"v\") and uri ~~ '^/a'");
    assertThat(e.terms().get(0)).isInstanceOf(Or.class);
    var re = (Compare) e.terms().get(1);
    assertThat(re.regex().pattern()).isEqualTo("^/a");
    assertThat(((Compare) FlowCondition.parse("consumer == nil")).value()).isNull();
    assertThat(((Compare) FlowCondition.parse("code != 200")).op()).isEqualTo(Op.NE);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "code = 200|at 6: \"=\" (expected: ==, ~=, !=, <, <=, >, >=, ~~)",
        "code == 200 and|at the end (expected: a name, not or ()",
        "code == 200 200|at 13: \"200\" (expected: and, or, ) or the end)",
        "(code == 200|at the end (expected: ))",
        "code > 'x'|at 8: \"x\" (expected: a number after >)",
        "uri ~~ '('|at 8: \"(\" (expected: a valid regular expression in RE2 syntax, without backreferences or lookaround: missing closing ): `(`)",
        "code == 'open|at 9: string not closed (expected: ')",
        "code == 2 # 3|at 11: \"#\" (expected: a name, a value, an operator or ( )",
        "and == 1|at 1: \"and\" (expected: a name such as code, body, consumer, arg_x or http_x)",
      })
  void badConditionsSayWhereAndWhatWasExpected(String text, String message) {
    assertThatThrownBy(() -> FlowCondition.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }
}
