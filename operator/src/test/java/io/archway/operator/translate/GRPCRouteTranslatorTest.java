package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatchBuilder;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Method matches as paths, and the GRPCRoute precedence. */
class GRPCRouteTranslatorTest {

  private static GRPCRouteMatch method(String type, String service, String method, int headers) {
    var b = new GRPCRouteMatchBuilder();
    if (service != null || method != null || type != null) {
      b.withNewMethod().withType(type).withService(service).withMethod(method).endMethod();
    }
    for (int i = 0; i < headers; i++) {
      b.addToHeaders(new GRPCHeaderMatchBuilder().withName("h" + i).withValue("v").build());
    }
    return b.build();
  }

  @Test
  void exactServiceAndMethodIsTheExactPath() {
    var p = GRPCRouteTranslator.match(method(null, "pkg.Svc", "Call", 0)).getPath();
    assertThat(p.getType()).isEqualTo("Exact");
    assertThat(p.getValue()).isEqualTo("/pkg.Svc/Call");
  }

  @Test
  void serviceAloneIsAPrefixAndMethodAloneARegexOverAnyService() {
    var prefix = GRPCRouteTranslator.match(method("Exact", "pkg.Svc", null, 0)).getPath();
    assertThat(prefix.getType()).isEqualTo("PathPrefix");
    assertThat(prefix.getValue()).isEqualTo("/pkg.Svc");
    var re = GRPCRouteTranslator.match(method("Exact", null, "Call", 0)).getPath();
    assertThat(re.getType()).isEqualTo("RegularExpression");
    assertThat(Pattern.matches(re.getValue(), "/any.Svc/Call")).isTrue();
    assertThat(Pattern.matches(re.getValue(), "/any.Svc/Callx")).isFalse();
    assertThat(Pattern.matches(re.getValue(), "/a/b/Call")).isFalse();
  }

  @Test
  void regularExpressionMatchesServiceAndMethodSeparately() {
    var re =
        GRPCRouteTranslator.match(method("RegularExpression", "pkg\\..*", "Get.*", 0)).getPath();
    assertThat(Pattern.matches(re.getValue(), "/pkg.Svc/GetThing")).isTrue();
    assertThat(Pattern.matches(re.getValue(), "/other.Svc/GetThing")).isFalse();
    assertThat(Pattern.matches(re.getValue(), "/pkg.Svc/PutThing")).isFalse();
  }

  @Test
  void precedenceIsServiceCharactersThenMethodCharactersThenHeaders() {
    var ordered =
        List.of(
            method(null, "pkg.LongService", "M", 0),
            method(null, "pkg.Short", "LongMethodName", 3),
            method(null, "pkg.Short", "LongMethodName", 1),
            method(null, "pkg.Short", "M", 5),
            method(null, "pkg.Short", null, 0),
            method(null, null, "LongMethodName", 0),
            method(null, null, "M", 2),
            method("RegularExpression", ".*", ".*", 1),
            method(null, null, null, 0));
    var sorted =
        ordered.stream()
            .sorted(Comparator.comparingInt(GRPCRouteTranslator::priority).reversed())
            .toList();
    assertThat(sorted).containsExactlyElementsOf(ordered);
    assertThat(ordered).allMatch(m -> GRPCRouteTranslator.priority(m) >= 2048);
  }
}
