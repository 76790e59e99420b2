package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class BodyPathTest {

  @Test
  void pathsParseIntoSteps() {
    assertThat(BodyPath.of("arg_a")).isNull();
    assertThat(BodyPath.of("post_args")).isNull();
    assertThat(BodyPath.of("post_arg.model").steps()).containsExactly(new BodyPath.Field("model"));
    assertThat(BodyPath.of("post_arg.a.b-c").steps())
        .containsExactly(new BodyPath.Field("a"), new BodyPath.Field("b-c"));
    assertThat(BodyPath.of("post_arg.items[2].id").steps())
        .containsExactly(
            new BodyPath.Field("items"), new BodyPath.Index(2), new BodyPath.Field("id"));
    var every = BodyPath.of("post_arg.messages[*].role");
    assertThat(every.steps())
        .containsExactly(
            new BodyPath.Field("messages"), new BodyPath.Every(), new BodyPath.Field("role"));
    assertThat(every.many()).isTrue();
    assertThat(BodyPath.of("post_arg.a.*").steps())
        .containsExactly(new BodyPath.Field("a"), new BodyPath.Every());
    assertThat(BodyPath.of("post_arg..id").steps()).containsExactly(new BodyPath.Descend("id"));
    assertThat(BodyPath.of("post_arg.a..id").steps())
        .containsExactly(new BodyPath.Field("a"), new BodyPath.Descend("id"));
    assertThat(BodyPath.of("post_arg[\"a.b\"]['c']").steps())
        .containsExactly(new BodyPath.Field("a.b"), new BodyPath.Field("c"));
    var form = BodyPath.of("post_arg_user.name");
    assertThat(form.formOnly()).isTrue();
    assertThat(form.steps()).isEqualTo(List.of(new BodyPath.Field("user.name")));
    assertThat(BodyPath.of("post_arg.a.b").many()).isFalse();
    assertThat(BodyPath.of("post_arg.a.b").rawPath()).isEqualTo("a.b");
  }

  @Test
  void malformedPathsAreRefused() {
    for (var bad :
        List.of(
            "post_arg.",
            "post_arg_",
            "post_arg.a.",
            "post_arg.a..",
            "post_arg.a[",
            "post_arg.a[x]",
            "post_arg.a[-1]",
            "post_arg.a[]",
            "post_arg.a.[1]",
            "post_arg.a]b[")) {
      assertThatThrownBy(() -> BodyPath.of(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void varsNameTheTermOnTheBodyAndRefuseABadPath() throws Exception {
    var ok =
        Vars.parse(
            (ArrayNode)
                ModelJson.mapper()
                    .readTree("[[\"arg_a\",\"==\",\"1\"],[\"post_arg.m\",\"==\",\"x\"]]"));
    assertThat(Vars.readsBody(ok)).isTrue();
    var terms = ((Vars.Group) ok).terms();
    assertThat(((Vars.Term) terms.get(0)).body()).isNull();
    assertThat(((Vars.Term) terms.get(1)).body()).isEqualTo(BodyPath.of("post_arg.m"));
    assertThat(
            Vars.readsBody(
                Vars.parse((ArrayNode) ModelJson.mapper().readTree("[[\"arg_a\",\"==\",\"1\"]]"))))
        .isFalse();
    assertThatThrownBy(
            () ->
                Vars.parse(
                    (ArrayNode)
                        ModelJson.mapper()
                            .readTree("[[\"arg_a\",\"==\",\"1\"],[\"post_arg.a[\",\"==\",\"x\"]]")))
        .hasMessageContaining("vars[1][0]")
        .hasMessageContaining("post_arg.a[");
  }

  @Test
  void anyNameParsesOrIsRefusedWithAReason() {
    var alphabet = ".[]*'\"a0_-9";
    var r = new java.util.Random(23);
    for (int i = 0; i < 20_000; i++) {
      var sb = new StringBuilder(i % 2 == 0 ? "post_arg." : "post_arg");
      int n = r.nextInt(12);
      for (int j = 0; j < n; j++) {
        sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
      }
      try {
        var p = BodyPath.of(sb.toString());
        if (p != null) {
          assertThat(p.steps()).isNotEmpty();
        }
      } catch (IllegalArgumentException e) {
        assertThat(e.getMessage()).isNotBlank();
      }
    }
  }
}
