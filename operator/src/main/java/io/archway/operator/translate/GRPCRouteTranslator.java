package io.archway.operator.translate;

import io.archway.model.UserRegex;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A Gateway API GRPCRoute, translated as the HTTPRoute it amounts to ({@link HTTPRouteTranslator},
 * flavored: kind {@code GRPCRoute} for attachment and ReferenceGrants, ids {@code gr_...}, upstream
 * scheme {@code grpc}, the GRPCRoute's precedence). A gRPC call is an HTTP/2 request to {@code
 * /<service>/<method>}, so a method match is a path match:
 *
 * <ul>
 *   <li>{@code Exact} service and method: the exact path {@code /service/method};
 *   <li>{@code Exact} service alone: the path prefix {@code /service} ({@code /service/...});
 *   <li>{@code Exact} method alone, and {@code RegularExpression}: a regex on the path, {@code
 *       /(?:service)/(?:method)} (a missing part is {@code [^/]+}).
 * </ul>
 *
 * <p>Headers, filters ({@code RequestHeaderModifier}, {@code ResponseHeaderModifier}, {@code
 * RequestMirror}, {@code ExtensionRef}) and weighted backendRefs are the HTTPRoute's. Backends are
 * spoken to over h2c ({@code scheme: grpc}); a Service port whose {@code appProtocol} is set must
 * be {@code kubernetes.io/h2c} or {@code grpc} ({@code UnsupportedProtocol} otherwise; TLS to
 * backends needs BackendTLSPolicy, not served).
 */
public final class GRPCRouteTranslator {

  static final String KIND = "GRPCRoute";
  static final Set<String> APP_PROTOCOLS = Set.of("kubernetes.io/h2c", "grpc");

  /** Any service or method name: one path segment. */
  private static final String ANY = "[^/]+";

  private GRPCRouteTranslator() {}

  public static Translation translate(GRPCRoute route, Refs refs) {
    var invalid = check(route);
    return HTTPRouteTranslator.translate(flavor(route, invalid), asHttpRoute(route, invalid), refs);
  }

  /** The status per parent, as {@link HTTPRouteTranslator#status}. */
  public static List<RouteParentStatus> status(GRPCRoute route, Refs refs) {
    var invalid = check(route);
    return HTTPRouteTranslator.status(flavor(route, invalid), asHttpRoute(route, invalid), refs);
  }

  private static HTTPRouteTranslator.Flavor flavor(
      GRPCRoute route, List<Translation.FieldError> invalid) {
    return new HTTPRouteTranslator.Flavor(
        KIND, "gr", APP_PROTOCOLS, "grpc", (i, j) -> priority(match(route, i, j)), invalid);
  }

  private static GRPCRouteMatch match(GRPCRoute route, int rule, int match) {
    var matches = route.getSpec().getRules().get(rule).getMatches();
    return matches == null || matches.isEmpty() ? new GRPCRouteMatch() : matches.get(match);
  }

  /**
   * The GRPCRoute spec's precedence among matches of one hostname: the most characters of an exact
   * service, then of an exact method, then the most header matches. The router orders paths first
   * (exact, then longest prefix, then the catch-all with the regex matches), so the priority only
   * orders matches on one path; a regex counts no characters (implementation-specific in the spec).
   * At least 2048, as an HTTPRoute's.
   */
  static int priority(GRPCRouteMatch m) {
    int service = 0;
    int method = 0;
    var mm = m.getMethod();
    if (mm != null && !"RegularExpression".equals(mm.getType())) {
      service = mm.getService() == null ? 0 : mm.getService().length();
      method = mm.getMethod() == null ? 0 : mm.getMethod().length();
    }
    int headers = m.getHeaders() == null ? 0 : m.getHeaders().size();
    return 2048
        + (Math.min(service, 255) << 14 | Math.min(method, 255) << 6 | Math.min(headers, 63));
  }

  /**
   * What the GRPCRoute's own rules refuse: a method match without service and method, a bad regex,
   * a filter type it does not take.
   */
  static List<Translation.FieldError> check(GRPCRoute route) {
    var out = new ArrayList<Translation.FieldError>();
    var rules = rules(route);
    for (int i = 0; i < rules.size(); i++) {
      var rule = rules.get(i);
      var at = "spec.rules[" + i + "]";
      var matches = rule.getMatches() == null ? List.<GRPCRouteMatch>of() : rule.getMatches();
      for (int j = 0; j < matches.size(); j++) {
        var mm = matches.get(j).getMethod();
        var mAt = at + ".matches[" + j + "].method";
        if (mm == null) {
          continue;
        }
        var type = mm.getType() == null ? "Exact" : mm.getType();
        if (mm.getService() == null && mm.getMethod() == null) {
          out.add(
              new Translation.FieldError(
                  mAt, "neither service nor method (expected: one or both)"));
        } else if ("RegularExpression".equals(type)) {
          regex(mm.getService(), mAt + ".service", out);
          regex(mm.getMethod(), mAt + ".method", out);
        } else if ("Exact".equals(type)) {
          name(
              mm.getService(),
              mAt + ".service",
              "[A-Za-z_][A-Za-z_0-9]*(\\.[A-Za-z_][A-Za-z_0-9]*)*",
              out);
          name(mm.getMethod(), mAt + ".method", "[A-Za-z_][A-Za-z_0-9]*", out);
        } else {
          out.add(
              new Translation.FieldError(
                  mAt + ".type", Exprs.show(type) + " (expected: Exact or RegularExpression)"));
        }
      }
      filterTypes(rule.getFilters(), at + ".filters", out);
      var backends =
          rule.getBackendRefs() == null ? List.<GRPCBackendRef>of() : rule.getBackendRefs();
      for (int j = 0; j < backends.size(); j++) {
        filterTypes(backends.get(j).getFilters(), at + ".backendRefs[" + j + "].filters", out);
      }
    }
    return out;
  }

  private static void filterTypes(
      List<GRPCRouteFilter> filters, String at, List<Translation.FieldError> out) {
    if (filters == null) {
      return;
    }
    for (int k = 0; k < filters.size(); k++) {
      var type = filters.get(k).getType();
      if (!Set.of(
              "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "ExtensionRef")
          .contains(type)) {
        out.add(
            new Translation.FieldError(
                at + "[" + k + "].type",
                Exprs.show(type)
                    + " (expected: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror or"
                    + " ExtensionRef)"));
      }
    }
  }

  private static void name(
      String value, String field, String syntax, List<Translation.FieldError> out) {
    if (value != null && !value.matches(syntax)) {
      out.add(
          new Translation.FieldError(
              field, Exprs.show(value) + " (expected: a gRPC name matching " + syntax + ")"));
    }
  }

  private static void regex(String re, String field, List<Translation.FieldError> out) {
    if (re == null) {
      return;
    }
    var expected = UserRegex.problem(re);
    if (expected != null) {
      out.add(new Translation.FieldError(field, Exprs.show(re) + " (expected: " + expected + ")"));
    }
  }

  private static List<GRPCRouteRule> rules(GRPCRoute route) {
    return route.getSpec() == null || route.getSpec().getRules() == null
        ? List.of()
        : route.getSpec().getRules();
  }

  /**
   * The HTTPRoute the GRPCRoute amounts to. When the GRPCRoute's own checks failed ({@code
   * invalid}), its matches are left out (the route is refused whole anyway; its parents and
   * backends still give the status).
   */
  /**
   * The HTTPRoute the GRPCRoute amounts to, for what it refers to (parents, backends, filters): its
   * matches are left out.
   */
  public static HTTPRoute asHttpRoute(GRPCRoute route) {
    return asHttpRoute(route, List.of(new Translation.FieldError("spec", "references only")));
  }

  static HTTPRoute asHttpRoute(GRPCRoute route, List<Translation.FieldError> invalid) {
    var out = new HTTPRoute();
    out.setMetadata(route.getMetadata());
    var spec = new HTTPRouteSpec();
    out.setSpec(spec);
    if (route.getSpec() == null) {
      return out;
    }
    spec.setParentRefs(route.getSpec().getParentRefs());
    spec.setHostnames(route.getSpec().getHostnames());
    var rules = new ArrayList<HTTPRouteRule>();
    for (var r : rules(route)) {
      if (r == null) {
        rules.add(null);
        continue;
      }
      var rule = new HTTPRouteRule();
      rule.setName(r.getName());
      rule.setSessionPersistence(r.getSessionPersistence());
      if (invalid.isEmpty() && r.getMatches() != null) {
        rule.setMatches(r.getMatches().stream().map(GRPCRouteTranslator::match).toList());
      }
      rule.setFilters(filters(r.getFilters()));
      if (r.getBackendRefs() != null) {
        var backends = new ArrayList<HTTPBackendRef>();
        for (var b : r.getBackendRefs()) {
          if (b == null) {
            backends.add(null);
            continue;
          }
          var hb = new HTTPBackendRef();
          hb.setGroup(b.getGroup());
          hb.setKind(b.getKind());
          hb.setName(b.getName());
          hb.setNamespace(b.getNamespace());
          hb.setPort(b.getPort());
          hb.setWeight(b.getWeight());
          hb.setFilters(filters(b.getFilters()));
          backends.add(hb);
        }
        rule.setBackendRefs(backends);
      }
      rules.add(rule);
    }
    spec.setRules(rules);
    return out;
  }

  private static List<HTTPRouteFilter> filters(List<GRPCRouteFilter> filters) {
    if (filters == null) {
      return null;
    }
    var out = new ArrayList<HTTPRouteFilter>();
    for (var f : filters) {
      if (f == null) {
        out.add(null);
        continue;
      }
      var hf = new HTTPRouteFilter();
      hf.setType(f.getType());
      hf.setRequestHeaderModifier(f.getRequestHeaderModifier());
      hf.setResponseHeaderModifier(f.getResponseHeaderModifier());
      hf.setRequestMirror(f.getRequestMirror());
      hf.setExtensionRef(f.getExtensionRef());
      out.add(hf);
    }
    return out;
  }

  /** A method match as the path match of the call's {@code /service/method}. */
  static HTTPRouteMatch match(GRPCRouteMatch m) {
    var out = new HTTPRouteMatch();
    var mm = m.getMethod();
    if (mm != null) {
      var service = mm.getService();
      var method = mm.getMethod();
      var path = new HTTPPathMatch();
      if ("RegularExpression".equals(mm.getType())) {
        path.setType("RegularExpression");
        path.setValue(
            "/(?:"
                + (service == null ? ANY : service)
                + ")/(?:"
                + (method == null ? ANY : method)
                + ")");
      } else if (service != null && method != null) {
        path.setType("Exact");
        path.setValue("/" + service + "/" + method);
      } else if (service != null) {
        path.setType("PathPrefix");
        path.setValue("/" + service);
      } else {
        path.setType("RegularExpression");
        // Exact method names are identifiers (checked): no regex metacharacters.
        path.setValue("/" + ANY + "/" + method);
      }
      out.setPath(path);
    }
    if (m.getHeaders() != null) {
      out.setHeaders(
          m.getHeaders().stream()
              .map(
                  h -> {
                    var hm = new HTTPHeaderMatch();
                    hm.setName(h.getName());
                    hm.setType(h.getType());
                    hm.setValue(h.getValue());
                    return hm;
                  })
              .toList());
    }
    return out;
  }
}
