package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPQueryParamMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The route priorities order matches exactly as the Gateway API's precedence does: randomized with
 * a fixed seed, every pair of generated matches compares the same both ways.
 */
class HTTPRoutePrecedenceTest {

  private static final long SEED = 0x6a7e_ba11L;

  private static HTTPRouteMatch match(
      String type, String path, String method, int headers, int queries) {
    var hs = new ArrayList<HTTPHeaderMatch>();
    for (int i = 0; i < headers; i++) {
      hs.add(new HTTPHeaderMatch("h" + i, "Exact", "v"));
    }
    var qs = new ArrayList<HTTPQueryParamMatch>();
    for (int i = 0; i < queries; i++) {
      qs.add(new HTTPQueryParamMatch("q" + i, "Exact", "v"));
    }
    return new HTTPRouteMatch(hs, method, new HTTPPathMatch(type, path), qs);
  }

  private static HTTPRouteMatch random(Random r) {
    var type = r.nextBoolean() ? "Exact" : "PathPrefix";
    int len = 1 + r.nextInt(r.nextBoolean() ? 6 : HTTPRoutePrecedence.MAX_PATH);
    var path = "/" + "a".repeat(len - 1);
    var method = r.nextInt(3) == 0 ? "GET" : null;
    return match(type, path, method, r.nextInt(17), r.nextInt(17));
  }

  @Test
  void priorityOrdersAsTheSpecComparator() {
    var r = new Random(SEED);
    var matches = new ArrayList<HTTPRouteMatch>();
    for (int i = 0; i < 600; i++) {
      matches.add(random(r));
    }
    for (var a : matches) {
      for (var b : matches) {
        int spec = Integer.signum(HTTPRoutePrecedence.MATCH.compare(a, b));
        // Higher priority first: a before b when a's priority is higher.
        int prio =
            Integer.signum(
                Integer.compare(HTTPRoutePrecedence.priority(b), HTTPRoutePrecedence.priority(a)));
        assertThat(prio).as("%s vs %s", describe(a), describe(b)).isEqualTo(spec);
      }
    }
  }

  @Test
  void sortingByPriorityIsSortingBySpec() {
    var r = new Random(SEED + 1);
    var matches = new ArrayList<HTTPRouteMatch>();
    for (int i = 0; i < 2000; i++) {
      matches.add(random(r));
    }
    var bySpec = new ArrayList<>(matches);
    bySpec.sort(HTTPRoutePrecedence.MATCH);
    var byPriority = new ArrayList<>(matches);
    byPriority.sort(
        Comparator.comparingInt((HTTPRouteMatch m) -> HTTPRoutePrecedence.priority(m)).reversed());
    assertThat(byPriority.stream().map(HTTPRoutePrecedenceTest::describe).toList())
        .isEqualTo(bySpec.stream().map(HTTPRoutePrecedenceTest::describe).toList());
  }

  @Test
  void theSpecsExamples() {
    var exact = match("Exact", "/v2", null, 0, 0);
    var longPrefix = match("PathPrefix", "/v2/items", null, 0, 0);
    var prefix = match("PathPrefix", "/v2", null, 0, 0);
    var method = match("PathPrefix", "/v2", "GET", 0, 0);
    var headers = match("PathPrefix", "/v2", null, 2, 0);
    var query = match("PathPrefix", "/v2", null, 0, 1);
    var all = match("PathPrefix", "/", null, 0, 0);
    var ordered = List.of(exact, longPrefix, method, headers, query, prefix, all);
    for (int i = 1; i < ordered.size(); i++) {
      assertThat(HTTPRoutePrecedence.priority(ordered.get(i - 1)))
          .as("%s over %s", describe(ordered.get(i - 1)), describe(ordered.get(i)))
          .isGreaterThan(HTTPRoutePrecedence.priority(ordered.get(i)));
    }
  }

  @Test
  void regexRanksJustAboveTheCatchAll() {
    var regex = match("RegularExpression", "/v[0-9]+", null, 0, 0);
    assertThat(HTTPRoutePrecedence.priority(regex))
        .isGreaterThan(HTTPRoutePrecedence.priority(match("PathPrefix", "/", null, 0, 0)))
        .isLessThan(HTTPRoutePrecedence.priority(match("PathPrefix", "/a", null, 0, 0)));
  }

  @Test
  void idsBreakTiesByAgeThenNameThenRule() {
    var older = HTTPRouteTranslator.routeId(1_000, "zz", "zz", 3, 0, "l");
    var newer = HTTPRouteTranslator.routeId(2_000, "aa", "aa", 0, 0, "l");
    assertThat(older).isLessThan(newer);
    var a = HTTPRouteTranslator.routeId(1_000, "default", "alpha", 5, 0, "l");
    var b = HTTPRouteTranslator.routeId(1_000, "default", "beta", 0, 0, "l");
    assertThat(a).isLessThan(b);
    var rule2 = HTTPRouteTranslator.routeId(1_000, "default", "r", 2, 0, "l");
    var rule10 = HTTPRouteTranslator.routeId(1_000, "default", "r", 10, 0, "l");
    assertThat(rule2).isLessThan(rule10);
    var longName = HTTPRouteTranslator.routeId(1_000, "n".repeat(63), "x".repeat(253), 0, 0, "l");
    assertThat(longName).hasSizeLessThanOrEqualTo(64).startsWith("hr_0000001000_nnn");
    assertThat(HTTPRouteTranslator.routeId(1_000, "n".repeat(63), "x".repeat(253), 0, 1, "l"))
        .isNotEqualTo(longName);
  }

  private static String describe(HTTPRouteMatch m) {
    return m.getPath().getType()
        + " "
        + m.getPath().getValue().length()
        + " "
        + m.getMethod()
        + " h"
        + m.getHeaders().size()
        + " q"
        + m.getQueryParams().size();
  }
}
