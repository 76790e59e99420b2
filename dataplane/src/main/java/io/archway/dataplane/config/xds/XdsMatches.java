package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Locale;

/** Route matches (path, headers, query) to a {@code vars} expression. */
final class XdsMatches {

  private XdsMatches() {}

  /** The route's match as a {@code vars} expression over the path, headers and query. */
  static ArrayNode match(RouteMatch m, String where) throws XdsException {
    only(
        m,
        where,
        "prefix",
        "path",
        "safe_regex",
        "path_separated_prefix",
        "case_sensitive",
        "headers",
        "query_parameters");
    var vars = J.arrayNode();
    boolean ci = m.hasCaseSensitive() && !m.getCaseSensitive().getValue();
    var regexOp = ci ? "~*" : "~~";
    switch (m.getPathSpecifierCase()) {
      case PREFIX -> {
        if (!m.getPrefix().isEmpty() && !m.getPrefix().equals("/")) {
          vars.add(term("uri", regexOp, "^" + quote(m.getPrefix())));
        }
      }
      case PATH ->
          vars.add(
              ci
                  ? term("uri", "~*", "^" + quote(m.getPath()) + "$")
                  : term("uri", "==", m.getPath()));
      case SAFE_REGEX ->
          vars.add(
              term(
                  "uri",
                  regexOp,
                  "^(?:" + regex(m.getSafeRegex().getRegex(), where + ": safe_regex") + ")$"));
      case PATH_SEPARATED_PREFIX ->
          vars.add(term("uri", regexOp, "^" + quote(m.getPathSeparatedPrefix()) + "(?:/|$)"));
      default ->
          throw new XdsException(
              where
                  + ": path_specifier "
                  + m.getPathSpecifierCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: prefix, path, safe_regex or path_separated_prefix)");
    }
    for (int i = 0; i < m.getHeadersCount(); i++) {
      vars.add(header(m.getHeaders(i), where + ": headers[" + i + "]"));
    }
    for (int i = 0; i < m.getQueryParametersCount(); i++) {
      vars.add(query(m.getQueryParameters(i), where + ": query_parameters[" + i + "]"));
    }
    return vars;
  }

  static ArrayNode header(HeaderMatcher h, String where) throws XdsException {
    only(
        h,
        where,
        "name",
        "exact_match",
        "safe_regex_match",
        "present_match",
        "prefix_match",
        "suffix_match",
        "contains_match",
        "string_match",
        "invert_match",
        "treat_missing_header_as_empty");
    var name = h.getName().toLowerCase(Locale.ROOT);
    var var =
        switch (name) {
          case ":method" -> "request_method";
          case ":authority" -> "host";
          case ":path" -> "request_uri";
          case ":scheme" -> "scheme";
          default -> {
            if (name.startsWith(":")) {
              throw new XdsException(
                  where
                      + ": name: "
                      + q(h.getName())
                      + " (expected: a header, :method, :authority, :path or :scheme)");
            }
            yield "http_" + name.replace('-', '_');
          }
        };
    ArrayNode t =
        switch (h.getHeaderMatchSpecifierCase()) {
          case EXACT_MATCH -> term(var, "==", h.getExactMatch());
          case SAFE_REGEX_MATCH ->
              term(var, "~~", "^(?:" + regex(h.getSafeRegexMatch().getRegex(), where) + ")$");
          case PRESENT_MATCH -> term(var, "~~", "");
          case PREFIX_MATCH -> term(var, "~~", "^" + quote(h.getPrefixMatch()));
          case SUFFIX_MATCH -> term(var, "~~", quote(h.getSuffixMatch()) + "$");
          case CONTAINS_MATCH -> term(var, "~~", quote(h.getContainsMatch()));
          case STRING_MATCH -> string(var, h.getStringMatch(), where + ": string_match");
          default -> term(var, "~~", "");
        };
    boolean invert =
        h.getInvertMatch()
            ^ (h.getHeaderMatchSpecifierCase()
                    == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH
                && !h.getPresentMatch());
    return invert ? not(t) : t;
  }

  static ArrayNode query(QueryParameterMatcher p, String where) throws XdsException {
    only(p, where, "name", "string_match", "present_match");
    var var = "arg_" + p.getName();
    if (!p.getName().matches("[A-Za-z0-9_-]+")) {
      throw new XdsException(
          where + ": name: " + q(p.getName()) + " (expected: letters, digits, _ and -)");
    }
    return switch (p.getQueryParameterMatchSpecifierCase()) {
      case STRING_MATCH -> string(var, p.getStringMatch(), where + ": string_match");
      case PRESENT_MATCH -> p.getPresentMatch() ? term(var, "~~", "") : not(term(var, "~~", ""));
      default -> term(var, "~~", "");
    };
  }

  static ArrayNode string(String var, StringMatcher m, String where) throws XdsException {
    only(m, where, "exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case");
    var op = m.getIgnoreCase() ? "~*" : "~~";
    return switch (m.getMatchPatternCase()) {
      case EXACT ->
          m.getIgnoreCase()
              ? term(var, op, "^" + quote(m.getExact()) + "$")
              : term(var, "==", m.getExact());
      case PREFIX -> term(var, op, "^" + quote(m.getPrefix()));
      case SUFFIX -> term(var, op, quote(m.getSuffix()) + "$");
      case CONTAINS -> term(var, op, quote(m.getContains()));
      case SAFE_REGEX ->
          term(var, op, "^(?:" + regex(m.getSafeRegex().getRegex(), where + ": safe_regex") + ")$");
      default ->
          throw new XdsException(
              where
                  + ": "
                  + m.getMatchPatternCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: exact, prefix, suffix, contains or safe_regex)");
    };
  }
}
