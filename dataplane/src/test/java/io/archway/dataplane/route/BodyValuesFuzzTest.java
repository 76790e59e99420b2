package io.archway.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Fuzz;
import io.archway.model.BodyPath;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the request-body decoders behind {@code post_arg.*} (a client's bytes): JSON, urlencoded
 * and multipart samples mutated byte by byte parse to fields or to none, never an exception, and
 * every path gives a value of the three documented shapes. See docs/fuzzing.md.
 */
class BodyValuesFuzzTest {

  static final String MULTIPART = "multipart/form-data; boundary=XyZ";
  static final List<String> TYPES =
      List.of("application/json", "application/x-www-form-urlencoded", MULTIPART);
  static final List<BodyPath> PATHS =
      List.of(
          BodyPath.of("post_arg.model"),
          BodyPath.of("post_arg.a.b[0]"),
          BodyPath.of("post_arg.messages[*].role"),
          BodyPath.of("post_arg..role"),
          BodyPath.of("post_arg.*"),
          BodyPath.of("post_arg_model"));

  @Provide
  Arbitrary<byte[]> bodies() {
    var samples =
        Arbitraries.of(
            "{\"model\":\"gpt-4\",\"a\":{\"b\":[1,{\"c\":null}]},\"messages\":[{\"role\":\"u\"}]}",
            "model=gpt-4&a.b=1&a.b=2&x=%41%zz+",
            "--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"
                + "x\r\n--XyZ--\r\n");
    return Fuzz.mutated(samples.map(s -> s.getBytes(StandardCharsets.UTF_8)), 8);
  }

  @Property
  void mutatedBodiesParseOrHaveNoFields(@ForAll("bodies") byte[] body) {
    for (var type : TYPES) {
      var values = BodyValues.parse(type, body);
      for (var path : PATHS) {
        var v = values.get(path);
        assertThat(v == null || v instanceof String || v instanceof List<?>).isTrue();
      }
    }
  }
}
