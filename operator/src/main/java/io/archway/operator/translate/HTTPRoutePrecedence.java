package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import java.util.Comparator;

/**
 * The Gateway API's precedence between HTTPRoute matches, as route {@code priority} values.
 *
 * <p>The spec orders matches of routes on the same listener and hostname by: an {@code Exact} path
 * before any prefix; the longest path (characters); a {@code method}; the most header matches; the
 * most query param matches; then the oldest route ({@code creationTimestamp}), the route's {@code
 * namespace/name} alphabetically, and within one route the rule first in the list.
 *
 * <p>The dataplane's router tries routes of one path by {@code priority}, higher first, then by id.
 * {@link #priority} encodes the match-only keys monotonically:
 *
 * <pre>
 *   priority = pathRank &lt;&lt; 11 | method &lt;&lt; 10 | min(headers, 31) &lt;&lt; 5 | min(queryParams, 31)
 *   pathRank = 2048 + length   for Exact   (length 1..1024: 2049..3072)
 *            = length + 1      for PathPrefix longer than "/"  (3..1025)
 *            = 1               for PathPrefix "/"
 *            = 2               for RegularExpression (the spec leaves its rank to implementations:
 *                              after every exact and longer prefix, before the catch-all "/")
 * </pre>
 *
 * The rest (age, name, rule order) is in the route id, which starts with the creation time in
 * seconds (10 digits) and the namespace and name, then the rule and match indexes zero-padded
 * ({@link HTTPRouteTranslator#routeId}); ties on priority are broken by id, ascending.
 */
final class HTTPRoutePrecedence {

  static final int MAX_PATH = 1024;

  private HTTPRoutePrecedence() {}

  static int priority(HTTPRouteMatch m) {
    var path = m.getPath();
    var type = path == null || path.getType() == null ? "PathPrefix" : path.getType();
    var value = path == null || path.getValue() == null ? "/" : path.getValue();
    int len = Math.min(value.length(), MAX_PATH);
    int pathRank =
        switch (type) {
          case "Exact" -> 2048 + len;
          case "RegularExpression" -> 2;
          default -> value.equals("/") ? 1 : len + 1;
        };
    int method = m.getMethod() == null ? 0 : 1;
    int headers = Math.min(m.getHeaders() == null ? 0 : m.getHeaders().size(), 31);
    int queries = Math.min(m.getQueryParams() == null ? 0 : m.getQueryParams().size(), 31);
    return pathRank << 11 | method << 10 | headers << 5 | queries;
  }

  /**
   * The spec's ordering of matches by what they match (for Exact and PathPrefix paths), written as
   * the spec words it: of two, the first is the one that wins. {@link #priority} is monotone in it:
   * {@code MATCH.compare(a, b) < 0} exactly when {@code priority(a) > priority(b)}.
   */
  static final Comparator<HTTPRouteMatch> MATCH =
      Comparator.<HTTPRouteMatch>comparingInt(m -> "Exact".equals(pathType(m)) ? 0 : 1)
          .thenComparing(
              Comparator.<HTTPRouteMatch>comparingInt(m -> pathValue(m).length()).reversed())
          .thenComparingInt(m -> m.getMethod() != null ? 0 : 1)
          .thenComparing(
              Comparator.<HTTPRouteMatch>comparingInt(
                      m -> m.getHeaders() == null ? 0 : m.getHeaders().size())
                  .reversed())
          .thenComparing(
              Comparator.<HTTPRouteMatch>comparingInt(
                      m -> m.getQueryParams() == null ? 0 : m.getQueryParams().size())
                  .reversed());

  private static String pathType(HTTPRouteMatch m) {
    return m.getPath() == null || m.getPath().getType() == null
        ? "PathPrefix"
        : m.getPath().getType();
  }

  private static String pathValue(HTTPRouteMatch m) {
    return m.getPath() == null || m.getPath().getValue() == null ? "/" : m.getPath().getValue();
  }
}
