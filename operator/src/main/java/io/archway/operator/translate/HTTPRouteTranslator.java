package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.archway.model.UserRegex;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * A Gateway API HTTPRoute as APISIX routes: one route per rule × match × listener it attaches to
 * (see {@link ListenerAttachment}), bound to the listener by {@code vars: [["server_port", "==",
 * port]]} and to the intersection of hostnames by {@code hosts}, its {@code priority} the spec's
 * precedence ({@link HTTPRoutePrecedence}).
 *
 * <p>What goes wrong is reported as the spec's status ({@link #status}), never by stopping other
 * routes: a route whose rules cannot be served as written (a regex that does not compile, a filter
 * the spec does not allow there) is refused whole ({@code Accepted: False, UnsupportedValue}); a
 * backend that does not resolve keeps its share of the traffic, answered with a 500 ({@code
 * ResolvedRefs: False}); a parent that does not take the route gets no routes ({@code Accepted:
 * False} with the reason for that parent).
 */
public final class HTTPRouteTranslator {

  public static final String CONTROLLER = RouteParents.CONTROLLER;
  static final String KIND = "HTTPRoute";
  static final String CORE = BackendRefs.CORE;

  public static final String ACCEPTED = "Accepted";
  public static final String RESOLVED_REFS = "ResolvedRefs";
  public static final String UNSUPPORTED_VALUE = "UnsupportedValue";
  public static final String REF_NOT_PERMITTED = BackendRefs.REF_NOT_PERMITTED;
  public static final String INVALID_KIND = BackendRefs.INVALID_KIND;
  public static final String BACKEND_NOT_FOUND = BackendRefs.BACKEND_NOT_FOUND;
  public static final String UNSUPPORTED_PROTOCOL = BackendRefs.UNSUPPORTED_PROTOCOL;

  /** The Service port appProtocols an HTTPRoute backend may have. */
  private static final java.util.Set<String> APP_PROTOCOLS =
      java.util.Set.of("http", "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss");

  /** The mirrors {@code proxy-mirror} takes besides its {@code host} (its schema's maxItems). */
  private static final int MAX_EXTRA_MIRRORS = 16;

  /** Gateway API's default backend weight. */
  private static final int DEFAULT_WEIGHT = 1;

  private HTTPRouteTranslator() {}

  /** Everything the translation and the status read, worked out once. */
  private record Analysis(
      List<RouteParents.Parent> parents,
      List<Translation.FieldError> invalid,
      List<BackendRefs.RefProblem> refProblems) {}

  /**
   * What differs between the route kinds translated as HTTPRoutes (HTTPRoute; GRPCRoute, rewritten
   * as one by {@link GRPCRouteTranslator}): the kind (for attachment and ReferenceGrants), the id
   * prefix, the backend appProtocols accepted, the upstream scheme, and the priority of match
   * {@code j} of rule {@code i} (null: {@link HTTPRoutePrecedence}), and what the original kind's
   * own checks refuse (added to the route's {@code UnsupportedValue}).
   */
  record Flavor(
      String kind,
      String idPrefix,
      java.util.Set<String> appProtocols,
      String scheme,
      java.util.function.BiFunction<Integer, Integer, Integer> priority,
      List<Translation.FieldError> invalid) {}

  /** The backendRef filters a traffic-split entry runs (its plugins, Archway's extension). */
  private static final java.util.Set<String> PER_BACKEND_FILTERS =
      java.util.Set.of("RequestHeaderModifier", "ResponseHeaderModifier", "URLRewrite");

  static final Flavor HTTP = new Flavor(KIND, "hr", APP_PROTOCOLS, null, null, List.of());

  public static Translation translate(HTTPRoute route, Refs refs) {
    return translate(HTTP, route, refs);
  }

  static Translation translate(Flavor flavor, HTTPRoute route, Refs refs) {
    var t = new Translation();
    var a = analyze(flavor, route, refs);
    if (!RouteParents.report(a.parents(), a.invalid(), a.refProblems(), t)) {
      return t;
    }
    if (route.getSpec() != null) {
      unsupported(route, t);
    }
    var seen = new LinkedHashSet<String>();
    for (var parent : a.parents()) {
      if (parent.at().listeners().isEmpty()) {
        continue;
      }
      // Listeners the Gateway cannot serve (not accepted, conflicted, certificates unresolved)
      // are not written: routes for them would hang off a listener that does not exist.
      var served = refs.servedListeners(parent.gateway());
      for (var attached : parent.at().listeners()) {
        var listener = attached.listener();
        var key = RouteParents.listenerKey(parent, attached);
        if (served.contains(listener.getName()) && seen.add(key)) {
          var isolated = new Attached(listener, isolation(parent.gateway(), listener, served));
          routes(flavor, route, key, isolated, attached.hostnames(), refs, t);
        }
      }
    }
    return t;
  }

  /**
   * The status of the route for each of its parents that is an Archway Gateway (or a Gateway that
   * does not exist), in {@code parentRefs} order: {@code Accepted} and {@code ResolvedRefs}, with
   * {@code observedGeneration}. {@code lastTransitionTime} is left to the writer, which keeps the
   * old one when a condition's status did not change.
   */
  public static List<RouteParentStatus> status(HTTPRoute route, Refs refs) {
    return status(HTTP, route, refs);
  }

  static List<RouteParentStatus> status(Flavor flavor, HTTPRoute route, Refs refs) {
    var a = analyze(flavor, route, refs);
    return RouteParents.status(
        a.parents(), a.invalid(), a.refProblems(), route.getMetadata().getGeneration());
  }

  private static Analysis analyze(Flavor flavor, HTTPRoute route, Refs refs) {
    var ns = route.getMetadata().getNamespace();
    var spec = route.getSpec();
    var invalid = new ArrayList<Translation.FieldError>(flavor.invalid());
    var problems = new ArrayList<BackendRefs.RefProblem>();
    var parents =
        RouteParents.parents(
            flavor.kind(),
            ns,
            spec == null ? null : spec.getParentRefs(),
            spec == null ? null : spec.getHostnames(),
            refs,
            invalid);
    if (spec != null && spec.getRules() != null) {
      for (int i = 0; i < spec.getRules().size(); i++) {
        check(
            flavor,
            route,
            spec.getRules().get(i),
            "spec.rules[" + i + "]",
            refs,
            invalid,
            problems);
      }
    }
    return new Analysis(parents, invalid, problems);
  }

  // ---- validation (no output): what refuses the route, and what does not resolve ----

  private static void check(
      Flavor flavor,
      HTTPRoute route,
      HTTPRouteRule rule,
      String at,
      Refs refs,
      List<Translation.FieldError> invalid,
      List<BackendRefs.RefProblem> problems) {
    var matches = matches(rule);
    for (int j = 0; j < matches.size(); j++) {
      var m = matches.get(j);
      var mAt = at + ".matches[" + j + "]";
      var path = m.getPath();
      if (path != null && path.getValue() != null) {
        var type = path.getType() == null ? "PathPrefix" : path.getType();
        switch (type) {
          case "Exact", "PathPrefix" -> {
            if (!path.getValue().startsWith("/")) {
              invalid.add(
                  new Translation.FieldError(
                      mAt + ".path.value",
                      Exprs.show(path.getValue()) + " (expected: a path starting with \"/\")"));
            }
          }
          case "RegularExpression" -> regex(path.getValue(), mAt + ".path.value", invalid);
          default ->
              invalid.add(
                  new Translation.FieldError(
                      mAt + ".path.type",
                      Exprs.show(type) + " (expected: Exact, PathPrefix or RegularExpression)"));
        }
      }
      if (m.getHeaders() != null) {
        for (int k = 0; k < m.getHeaders().size(); k++) {
          var h = m.getHeaders().get(k);
          if (h.getName() == null || h.getName().isEmpty() || h.getValue() == null) {
            invalid.add(
                new Translation.FieldError(
                    mAt + ".headers[" + k + "]", "missing name or value (expected: both)"));
          } else if ("RegularExpression".equals(h.getType())) {
            regex(h.getValue(), mAt + ".headers[" + k + "].value", invalid);
          }
        }
      }
      if (m.getQueryParams() != null) {
        for (int k = 0; k < m.getQueryParams().size(); k++) {
          var q = m.getQueryParams().get(k);
          if (q.getName() == null || q.getName().isEmpty() || q.getValue() == null) {
            invalid.add(
                new Translation.FieldError(
                    mAt + ".queryParams[" + k + "]", "missing name or value (expected: both)"));
          } else if ("RegularExpression".equals(q.getType())) {
            regex(q.getValue(), mAt + ".queryParams[" + k + "].value", invalid);
          }
        }
      }
    }
    var filters = rule.getFilters() == null ? List.<HTTPRouteFilter>of() : rule.getFilters();
    checkFilters(flavor, route, filters, matches, at + ".filters", refs, invalid, problems);
    var backends = backendRefs(rule);
    boolean backendFilters = false;
    for (int j = 0; j < backends.size(); j++) {
      var b = backends.get(j);
      var bAt = at + ".backendRefs[" + j + "]";
      if (b.getFilters() != null && !b.getFilters().isEmpty()) {
        backendFilters = true;
        checkFilters(
            flavor, route, b.getFilters(), matches, bAt + ".filters", refs, invalid, problems);
        for (int k = 0; k < b.getFilters().size(); k++) {
          if ("RequestRedirect".equals(b.getFilters().get(k).getType())) {
            invalid.add(
                new Translation.FieldError(
                    bAt + ".filters[" + k + "].type",
                    "RequestRedirect on a backendRef (expected: on the rule)"));
          }
        }
      }
      var problem = backendProblem(flavor, route, b, bAt, refs);
      if (problem != null) {
        problems.add(problem);
      }
    }
    if (backendFilters && backends.size() > 1) {
      // Several backends: each one's header and URL rewrite filters go on its traffic-split entry;
      // the entry runs no other plugin.
      for (int j = 0; j < backends.size(); j++) {
        var bf = backends.get(j).getFilters();
        for (int k = 0; bf != null && k < bf.size(); k++) {
          var type = bf.get(k).getType();
          if (!PER_BACKEND_FILTERS.contains(type) && !"RequestRedirect".equals(type)) {
            invalid.add(
                new Translation.FieldError(
                    at + ".backendRefs[" + j + "].filters[" + k + "].type",
                    type
                        + " on a backendRef of a rule with several backendRefs (expected:"
                        + " RequestHeaderModifier, ResponseHeaderModifier or URLRewrite there, or"
                        + " the filter on the rule)"));
          }
        }
      }
    }
  }

  private static void regex(String re, String field, List<Translation.FieldError> invalid) {
    var expected = UserRegex.problem(re == null ? "" : re);
    if (expected != null) {
      invalid.add(
          new Translation.FieldError(field, Exprs.show(re) + " (expected: " + expected + ")"));
    }
  }

  private static void checkFilters(
      Flavor flavor,
      HTTPRoute route,
      List<HTTPRouteFilter> filters,
      List<HTTPRouteMatch> matches,
      String at,
      Refs refs,
      List<Translation.FieldError> invalid,
      List<BackendRefs.RefProblem> problems) {
    boolean redirect = false;
    boolean rewrite = false;
    var types = new HashMap<String, Integer>();
    for (int k = 0; k < filters.size(); k++) {
      var f = filters.get(k);
      var fAt = at + "[" + k + "]";
      var type = f.getType() == null ? "" : f.getType();
      var first = types.putIfAbsent(type, k);
      if (first != null && !type.equals("ExtensionRef") && !type.equals("RequestMirror")) {
        invalid.add(
            new Translation.FieldError(
                fAt + ".type", type + " is also " + at + "[" + first + "] (expected: once)"));
      }
      var body =
          switch (type) {
            case "RequestHeaderModifier" -> f.getRequestHeaderModifier();
            case "ResponseHeaderModifier" -> f.getResponseHeaderModifier();
            case "RequestRedirect" -> f.getRequestRedirect();
            case "URLRewrite" -> f.getUrlRewrite();
            case "RequestMirror" -> f.getRequestMirror();
            case "ExtensionRef" -> f.getExtensionRef();
            default -> "";
          };
      if (body == null) {
        var fieldName = Character.toLowerCase(type.charAt(0)) + type.substring(1);
        if (type.equals("URLRewrite")) {
          fieldName = "urlRewrite";
        }
        invalid.add(
            new Translation.FieldError(
                fAt + "." + fieldName, "missing (expected: the " + type + " filter's settings)"));
        continue;
      }
      switch (type) {
        case "RequestHeaderModifier", "ResponseHeaderModifier" -> {}
        case "RequestRedirect" -> {
          redirect = true;
          var path = f.getRequestRedirect() == null ? null : f.getRequestRedirect().getPath();
          checkPathModifier(path, matches, fAt + ".requestRedirect.path", invalid);
        }
        case "URLRewrite" -> {
          rewrite = true;
          var path = f.getUrlRewrite() == null ? null : f.getUrlRewrite().getPath();
          checkPathModifier(path, matches, fAt + ".urlRewrite.path", invalid);
        }
        case "RequestMirror" -> {
          var b = f.getRequestMirror() == null ? null : f.getRequestMirror().getBackendRef();
          if (b == null) {
            invalid.add(new Translation.FieldError(fAt + ".requestMirror.backendRef", "missing"));
          } else {
            var ref = new HTTPBackendRef();
            ref.setGroup(b.getGroup());
            ref.setKind(b.getKind());
            ref.setName(b.getName());
            ref.setNamespace(b.getNamespace());
            ref.setPort(b.getPort());
            var p = backendProblem(flavor, route, ref, fAt + ".requestMirror.backendRef", refs);
            if (p != null) {
              problems.add(p);
            }
          }
        }
        case "ExtensionRef" -> {
          var p = extensionProblem(route, f, fAt + ".extensionRef", refs);
          if (p != null) {
            problems.add(p);
          }
        }
        default ->
            invalid.add(
                new Translation.FieldError(
                    fAt + ".type",
                    Exprs.show(type)
                        + " (expected: RequestHeaderModifier, ResponseHeaderModifier,"
                        + " RequestRedirect, URLRewrite, RequestMirror or ExtensionRef)"));
      }
    }
    if (redirect && rewrite) {
      invalid.add(
          new Translation.FieldError(
              at, "RequestRedirect and URLRewrite together (expected: one of them)"));
    }
  }

  private static void checkPathModifier(
      io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathModifier path,
      List<HTTPRouteMatch> matches,
      String at,
      List<Translation.FieldError> invalid) {
    if (path == null) {
      return;
    }
    if ("ReplacePrefixMatch".equals(path.getType())) {
      for (var m : matches) {
        var type =
            m.getPath() == null || m.getPath().getType() == null
                ? "PathPrefix"
                : m.getPath().getType();
        if (!"PathPrefix".equals(type)) {
          invalid.add(
              new Translation.FieldError(
                  at + ".type",
                  "ReplacePrefixMatch with a match of type " + type + " (expected: PathPrefix)"));
          return;
        }
      }
    } else if (!"ReplaceFullPath".equals(path.getType())) {
      invalid.add(
          new Translation.FieldError(
              at + ".type",
              Exprs.show(path.getType()) + " (expected: ReplaceFullPath or ReplacePrefixMatch)"));
    }
  }

  /** Why a backendRef does not resolve, or {@code null} when it does. */
  private static BackendRefs.RefProblem backendProblem(
      Flavor flavor, HTTPRoute route, HTTPBackendRef b, String at, Refs refs) {
    return BackendRefs.problem(
        flavor.kind(),
        route.getMetadata().getNamespace(),
        new BackendRefs.Ref(b.getGroup(), b.getKind(), b.getName(), b.getNamespace(), b.getPort()),
        at,
        flavor.appProtocols(),
        refs);
  }

  private static BackendRefs.RefProblem extensionProblem(
      HTTPRoute route, HTTPRouteFilter f, String at, Refs refs) {
    var ref = f.getExtensionRef();
    if (ref == null) {
      return new BackendRefs.RefProblem(INVALID_KIND, at + ": missing");
    }
    var ns = route.getMetadata().getNamespace();
    var kind = ref.getGroup() + "/" + ref.getKind();
    switch (kind) {
      case "apisix.apache.org/ApisixPluginConfig" -> {
        var t = new Translation();
        ApisixRouteTranslator.pluginConfig(ns, ref.getName(), at, refs, t);
        return t.ok() ? null : new BackendRefs.RefProblem(BACKEND_NOT_FOUND, t.errorMessage());
      }
      case "archway.io/PluginFlow" -> {
        var flow = refs.pluginFlow(ns, ref.getName());
        if (flow.isEmpty()) {
          return new BackendRefs.RefProblem(
              BACKEND_NOT_FOUND, at + ": PluginFlow " + ns + "/" + ref.getName() + " not found");
        }
        var ft = PluginFlowTranslator.translate(flow.get(), refs);
        return ft.ok()
            ? null
            : new BackendRefs.RefProblem(
                BACKEND_NOT_FOUND,
                at
                    + ": PluginFlow "
                    + ns
                    + "/"
                    + ref.getName()
                    + " is not valid: "
                    + ft.errorMessage());
      }
      default -> {
        return new BackendRefs.RefProblem(
            INVALID_KIND,
            at
                + ": "
                + kind
                + " (expected: apisix.apache.org/ApisixPluginConfig or archway.io/PluginFlow)");
      }
    }
  }

  // ---- output ----

  private static List<HTTPRouteMatch> matches(HTTPRouteRule rule) {
    // No matches is one match of every request: PathPrefix "/".
    return rule.getMatches() == null || rule.getMatches().isEmpty()
        ? List.of(new HTTPRouteMatch(null, null, null, null))
        : rule.getMatches();
  }

  private static List<HTTPBackendRef> backendRefs(HTTPRouteRule rule) {
    return rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs();
  }

  /**
   * The id of the route of match {@code match} of rule {@code rule} on listener {@code listenerKey}
   * ({@code gatewayNamespace/gateway/listener}): {@code hr_<created>_<ns>_<name>_<rule 2
   * digits>_<match 2 digits>_<hash of the listener>}, so that ids sort as the spec breaks ties
   * (oldest, then by name, then the first rule). Over 64 characters the namespace and name are
   * shortened and a hash of the whole added.
   */
  static String routeId(
      long createdSeconds, String ns, String name, int rule, int match, String listenerKey) {
    return routeId("hr", createdSeconds, ns, name, rule, match, listenerKey);
  }

  static String routeId(
      String prefix,
      long createdSeconds,
      String ns,
      String name,
      int rule,
      int match,
      String listenerKey) {
    var created = String.format(Locale.ROOT, "%010d", Math.max(0, createdSeconds));
    var tail =
        String.format(Locale.ROOT, "_%02d_%02d_", rule, match)
            + Ids.hash(listenerKey).substring(0, 8);
    var head = prefix + "_" + created + "_";
    var nsName = ns + "_" + name;
    var id = head + nsName + tail;
    if (id.length() <= 64) {
      return id;
    }
    var hash = Ids.hash(ns + "/" + name).substring(0, 8);
    var room = 64 - head.length() - tail.length() - hash.length() - 1;
    return head + nsName.substring(0, room) + "_" + hash + tail;
  }

  private static long created(HTTPRoute route) {
    var ts = route.getMetadata().getCreationTimestamp();
    if (ts == null || ts.isEmpty()) {
      return 0;
    }
    try {
      return Instant.parse(ts).getEpochSecond();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  /** A listener a route is written for, and the hosts its routes leave to more specific ones. */
  private record Attached(Listener listener, String excludedHosts) {}

  /**
   * Listener isolation (Gateway API {@code GatewayHTTPListenerIsolation}): a request goes only to
   * the routes of the most specific listener of its port whose hostname matches it. The dataplane's
   * router falls back from a host bucket that lacks the path to a less specific one (a wildcard,
   * then any host), so the routes of a listener exclude, by a {@code host} regex, the hostnames of
   * the Gateway's other served listeners on the same port that are more specific than its own:
   * every one for a listener without a hostname; for {@code *.example.com}, the names and wildcards
   * under it. Null when there is nothing to exclude.
   */
  static String isolation(Gateway gateway, Listener listener, java.util.Set<String> served) {
    var own = listener.getHostname() == null ? null : listener.getHostname().toLowerCase();
    var alternatives = new ArrayList<String>();
    for (var other : gateway.getSpec().getListeners()) {
      if (other.getName().equals(listener.getName())
          || !served.contains(other.getName())
          || !java.util.Objects.equals(other.getPort(), listener.getPort())
          || other.getHostname() == null) {
        continue;
      }
      var h = other.getHostname().toLowerCase();
      boolean under =
          own == null
              || (own.startsWith("*.")
                  && !h.equals(own)
                  && h.endsWith(own.substring(1))
                  && h.length() > own.length() - 1);
      if (under) {
        var quoted = h.replace(".", "\\.");
        alternatives.add(h.startsWith("*.") ? ".+" + quoted.substring(1) : quoted);
      }
    }
    return alternatives.isEmpty() ? null : anchored(String.join("|", alternatives));
  }

  private static void routes(
      Flavor flavor,
      HTTPRoute route,
      String listenerKey,
      Attached attached,
      List<String> hostnames,
      Refs refs,
      Translation t) {
    var listener = attached.listener();
    var ns = route.getMetadata().getNamespace();
    var name = route.getMetadata().getName();
    var rules =
        route.getSpec().getRules() == null ? List.<HTTPRouteRule>of() : route.getSpec().getRules();
    for (int i = 0; i < rules.size(); i++) {
      var rule = rules.get(i);
      var at = "spec.rules[" + i + "]";
      var matches = matches(rule);
      for (int j = 0; j < matches.size(); j++) {
        var m = matches.get(j);
        var json = JsonNodeFactory.instance.objectNode();
        json.put("id", routeId(flavor.idPrefix(), created(route), ns, name, i, j, listenerKey));
        json.put(
            "name",
            ApisixRouteTranslator.truncate(
                ns + "/" + name + "/rule " + i + "/match " + j + " on " + listenerKey, 100));
        match(m, attached, hostnames, json);
        json.put(
            "priority",
            flavor.priority() == null
                ? HTTPRoutePrecedence.priority(m)
                : flavor.priority().apply(i, j));
        var plugins = JsonNodeFactory.instance.objectNode();
        var filters = new ArrayList<HTTPRouteFilter>();
        if (rule.getFilters() != null) {
          filters.addAll(rule.getFilters());
        }
        var backends = backendRefs(rule);
        if (backends.size() == 1 && backends.get(0).getFilters() != null) {
          filters.addAll(backends.get(0).getFilters());
        }
        boolean answers =
            filters(flavor, route, filters, m, listener, hostnames, at, json, plugins, refs, t);
        if (!answers) {
          backends(flavor, route, backends, m, at, refs, json, plugins, t);
        }
        timeouts(rule, at, json, t);
        retry(rule, json, plugins);
        var session = rule.getSessionPersistence();
        SessionPersistences.apply(
            SessionPersistences.model(session, at + ".sessionPersistence", w -> {}), json, plugins);
        if (!plugins.isEmpty()) {
          json.set("plugins", plugins);
        }
        var obj = ModelObjects.read(Kind.ROUTES, json, Map.of(), at, t);
        if (obj != null) {
          t.add(Kind.ROUTES, obj);
        }
      }
    }
  }

  private static void match(
      HTTPRouteMatch m, Attached attached, List<String> hostnames, ObjectNode json) {
    var vars = JsonNodeFactory.instance.arrayNode();
    vars.addArray().add("server_port").add("==").add(attached.listener().getPort());
    if (attached.excludedHosts() != null) {
      vars.addArray().add("host").add("!").add("~~").add(attached.excludedHosts());
    }
    var path = m.getPath();
    var type = path == null || path.getType() == null ? "PathPrefix" : path.getType();
    var value = path == null || path.getValue() == null ? "/" : path.getValue();
    var uris = json.putArray("uris");
    switch (type) {
      case "Exact" -> uris.add(value);
      case "RegularExpression" -> {
        uris.add("/*");
        vars.addArray().add("uri").add("~~").add(anchored(value));
      }
      default -> {
        // Element-wise: /foo matches /foo and /foo/..., not /foobar; a trailing / is ignored.
        var p = value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
        if (p.isEmpty()) {
          uris.add("/*");
        } else {
          uris.add(p).add(p + "/*");
        }
      }
    }
    if (!hostnames.isEmpty()) {
      var hosts = json.putArray("hosts");
      hostnames.forEach(hosts::add);
    }
    if (m.getMethod() != null) {
      json.putArray("methods").add(m.getMethod());
    }
    if (m.getHeaders() != null) {
      var seen = new LinkedHashSet<String>();
      for (var h : m.getHeaders()) {
        var lower = h.getName().toLowerCase(Locale.ROOT);
        // The spec: of several matches on one header name, the first counts.
        if (!seen.add(lower)) {
          continue;
        }
        var v = "http_" + lower.replace('-', '_');
        term(vars, v, h.getType(), h.getValue());
      }
    }
    if (m.getQueryParams() != null) {
      var seen = new LinkedHashSet<String>();
      for (var q : m.getQueryParams()) {
        if (!seen.add(q.getName())) {
          continue;
        }
        term(vars, "arg_" + q.getName(), q.getType(), q.getValue());
      }
    }
    json.set("vars", vars);
  }

  private static void term(ArrayNode vars, String var, String type, String value) {
    if ("RegularExpression".equals(type)) {
      vars.addArray().add(var).add("~~").add(anchored(value));
    } else {
      vars.addArray().add(var).add("==").add(value);
    }
  }

  /** A Gateway API regex matches the whole value. */
  private static String anchored(String re) {
    return "^(?:" + re + ")$";
  }

  /**
   * Adds the filters' plugins; true when they answer every request themselves (a redirect), so the
   * rule's backends are not used.
   */
  private static boolean filters(
      Flavor flavor,
      HTTPRoute route,
      List<HTTPRouteFilter> filters,
      HTTPRouteMatch m,
      Listener listener,
      List<String> hostnames,
      String at,
      ObjectNode json,
      ObjectNode plugins,
      Refs refs,
      Translation t) {
    boolean answers = false;
    var ns = route.getMetadata().getNamespace();
    for (var f : filters) {
      switch (f.getType()) {
        case "RequestHeaderModifier" ->
            headers(f.getRequestHeaderModifier(), plugins, "proxy-rewrite");
        case "ResponseHeaderModifier" ->
            headers(f.getResponseHeaderModifier(), plugins, "response-rewrite");
        case "URLRewrite" -> urlRewrite(f, m, plugins);
        case "RequestRedirect" -> {
          answers = true;
          redirect(f, m, listener, hostnames, at, plugins, t);
        }
        case "RequestMirror" -> {
          var mirror = f.getRequestMirror();
          var b = mirror.getBackendRef();
          var bNs = b.getNamespace() == null ? ns : b.getNamespace();
          var ref = new HTTPBackendRef();
          ref.setName(b.getName());
          ref.setNamespace(b.getNamespace());
          ref.setPort(b.getPort());
          ref.setKind(b.getKind());
          ref.setGroup(b.getGroup());
          if (backendProblem(flavor, route, ref, at, refs) != null) {
            break; // reported in the status; nothing is mirrored.
          }
          double ratio = 1;
          if (mirror.getPercent() != null) {
            ratio = mirror.getPercent() / 100.0;
          } else if (mirror.getFraction() != null
              && mirror.getFraction().getDenominator() != null
              && mirror.getFraction().getDenominator() > 0) {
            ratio =
                (double) mirror.getFraction().getNumerator()
                    / mirror.getFraction().getDenominator();
          }
          if (ratio <= 0) {
            break;
          }
          var pm = object(plugins, "proxy-mirror");
          if (pm.has("mirrors") && pm.get("mirrors").size() >= MAX_EXTRA_MIRRORS) {
            t.warn(
                at
                    + ".filters: RequestMirror: more than "
                    + (MAX_EXTRA_MIRRORS + 1)
                    + " mirrors; the others are not served");
            break;
          }
          // The first mirror is the plugin's host; the others go in its mirrors (Archway's
          // extension), each sampled on its own.
          var one =
              !pm.has("host")
                  ? pm
                  : (pm.has("mirrors") ? (ArrayNode) pm.get("mirrors") : pm.putArray("mirrors"))
                      .addObject();
          // A GRPCRoute's mirror is a gRPC server: grpc:// has the copy sent over h2c.
          var scheme = flavor.scheme() == null ? "http" : flavor.scheme();
          one.put("host", scheme + "://" + mirrorAddress(bNs, b.getName(), b.getPort(), refs));
          if (ratio < 1) {
            one.put("sample_ratio", Math.max(ratio, 0.00001));
          }
        }
        case "ExtensionRef" -> extension(route, f, json, plugins, refs);
        default -> {}
      }
    }
    return answers;
  }

  /** A URLRewrite as {@code proxy-rewrite}: {@code host}, and {@code uri} or {@code regex_uri}. */
  private static void urlRewrite(HTTPRouteFilter f, HTTPRouteMatch m, ObjectNode plugins) {
    var rw = f.getUrlRewrite();
    var pr = object(plugins, "proxy-rewrite");
    if (rw.getHostname() != null) {
      pr.put("host", rw.getHostname());
    }
    var path = rw.getPath();
    if (path != null && "ReplaceFullPath".equals(path.getType())) {
      pr.put("uri", path.getReplaceFullPath());
    } else if (path != null) {
      var regex = pr.putArray("regex_uri");
      prefixRewrite(prefix(m), path.getReplacePrefixMatch(), regex);
    }
  }

  /**
   * Where a mirror is sent: the Service's cluster IP and port, as the L4 routes' weighted nodes, so
   * that the dataplane needs no cluster DNS; its DNS name when it has no cluster IP yet (a manifest
   * as written) or is headless.
   */
  private static String mirrorAddress(String ns, String name, int port, Refs refs) {
    var ip = refs.service(ns, name).map(svc -> svc.getSpec().getClusterIP()).orElse(null);
    return ip == null || ip.isEmpty() || ip.equals("None")
        ? name + "." + ns + ".svc:" + port
        : Upstreams.hostPort(ip, port);
  }

  private static void headers(HTTPHeaderFilter f, ObjectNode plugins, String plugin) {
    if (f == null) {
      return;
    }
    var headers = object(object(plugins, plugin), "headers");
    if (f.getSet() != null && !f.getSet().isEmpty()) {
      var set = object(headers, "set");
      f.getSet().forEach(h -> set.put(h.getName(), h.getValue()));
    }
    if (f.getAdd() != null && !f.getAdd().isEmpty()) {
      var add = object(headers, "add");
      f.getAdd().forEach(h -> add.put(h.getName(), h.getValue()));
    }
    if (f.getRemove() != null && !f.getRemove().isEmpty()) {
      var remove =
          headers.has("remove") ? (ArrayNode) headers.get("remove") : headers.putArray("remove");
      f.getRemove().forEach(remove::add);
    }
  }

  private static ObjectNode object(ObjectNode parent, String name) {
    return parent.has(name) ? (ObjectNode) parent.get(name) : parent.putObject(name);
  }

  /** The PathPrefix of a match, without a trailing {@code /}. */
  private static String prefix(HTTPRouteMatch m) {
    var v = m.getPath() == null || m.getPath().getValue() == null ? "/" : m.getPath().getValue();
    return v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
  }

  /**
   * {@code regex_uri} pairs replacing the prefix {@code p} by {@code replacement}, element-wise:
   * {@code /p} becomes {@code replacement}, {@code /p/rest} becomes {@code replacement/rest}
   * (replacement {@code /}: {@code /rest}).
   */
  private static void prefixRewrite(String p, String replacement, ArrayNode regex) {
    var r = replacement == null || replacement.isEmpty() ? "/" : replacement;
    var trimmed = r.endsWith("/") ? r.substring(0, r.length() - 1) : r;
    regex.add("^" + quote(p) + "/?$").add(r);
    regex
        .add("^" + quote(p) + "(/.*)$")
        .add(java.util.regex.Matcher.quoteReplacement(trimmed) + "$1");
  }

  private static String quote(String s) {
    var out = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (!Character.isLetterOrDigit(c) && c != '/' && c != '-' && c != '_' && c != '~') {
        out.append('\\');
      }
      out.append(c);
    }
    return out.toString();
  }

  /**
   * The {@code redirect} plugin for a RequestRedirect: the Location from the filter's scheme,
   * hostname, port and path, each defaulting as the spec says (scheme and port: the listener's;
   * hostname: the request's; a port that is the scheme's well-known one is left out).
   */
  private static void redirect(
      HTTPRouteFilter f,
      HTTPRouteMatch m,
      Listener listener,
      List<String> hostnames,
      String at,
      ObjectNode plugins,
      Translation t) {
    var r = f.getRequestRedirect();
    var listenerScheme = "HTTPS".equals(listener.getProtocol()) ? "https" : "http";
    var scheme = r.getScheme() != null ? r.getScheme() : listenerScheme;
    int port;
    if (r.getPort() != null) {
      port = r.getPort();
    } else if (r.getScheme() != null) {
      port = "https".equals(scheme) ? 443 : 80;
    } else {
      port = listener.getPort();
    }
    boolean wellKnown = port == ("https".equals(scheme) ? 443 : 80);
    var conf = object(plugins, "redirect");
    conf.put("ret_code", r.getStatusCode() == null ? 302 : r.getStatusCode());
    conf.put("append_query_string", true);
    var path = r.getPath();
    if (path != null && "ReplacePrefixMatch".equals(path.getType())) {
      // The redirect plugin's regex_uri rewrites the path alone (no $host): the Location is
      // absolute when the host is known, else relative (same scheme, host and port).
      var host = r.getHostname() != null ? r.getHostname() : single(hostnames);
      var base = host == null ? "" : scheme + "://" + host + (wellKnown ? "" : ":" + port);
      if (host == null && (!scheme.equals(listenerScheme) || port != listener.getPort())) {
        t.warn(
            at
                + ".filters: RequestRedirect: ReplacePrefixMatch to another scheme or port needs a"
                + " hostname (the filter's, or one exact route hostname): the Location is"
                + " relative, so the scheme and port stay the request's");
      }
      var r0 = path.getReplacePrefixMatch() == null ? "/" : path.getReplacePrefixMatch();
      var trimmed = r0.endsWith("/") ? r0.substring(0, r0.length() - 1) : r0;
      // One pair (the plugin takes one) for /p and /p/rest alike.
      var regex = conf.putArray("regex_uri");
      if (trimmed.isEmpty()) {
        regex.add("^" + quote(prefix(m)) + "/?(.*)$");
        regex.add(java.util.regex.Matcher.quoteReplacement(base + "/") + "$1");
      } else {
        regex.add("^" + quote(prefix(m)) + "(/.*)?$");
        regex.add(java.util.regex.Matcher.quoteReplacement(base + trimmed) + "$1");
      }
      return;
    }
    var host = r.getHostname() != null ? r.getHostname() : "$host";
    var target =
        path != null && "ReplaceFullPath".equals(path.getType())
            ? path.getReplaceFullPath()
            : "$uri";
    conf.put("uri", scheme + "://" + host + (wellKnown ? "" : ":" + port) + target);
  }

  private static String single(List<String> hostnames) {
    return hostnames.size() == 1 && !hostnames.get(0).startsWith("*") ? hostnames.get(0) : null;
  }

  private static void extension(
      HTTPRoute route, HTTPRouteFilter f, ObjectNode json, ObjectNode plugins, Refs refs) {
    var ref = f.getExtensionRef();
    if (ref == null || extensionProblem(route, f, "", refs) != null) {
      // Not resolved: the requests it would have handled get a 500, as the spec requires.
      abort(plugins, 100);
      return;
    }
    var ns = route.getMetadata().getNamespace();
    switch (ref.getGroup() + "/" + ref.getKind()) {
      case "apisix.apache.org/ApisixPluginConfig" ->
          json.put("plugin_config_id", ApisixPluginConfigTranslator.id(ns, ref.getName()));
      case "archway.io/PluginFlow" ->
          json.put("plugin_flow_id", PluginFlowTranslator.id(ns, ref.getName()));
      default -> {}
    }
  }

  private static void abort(ObjectNode plugins, int percent) {
    var fi = object(plugins, "fault-injection");
    if (fi.has("abort") && !fi.get("abort").has("percentage")) {
      return; // every request already gets a 500.
    }
    var abort = fi.putObject("abort");
    abort.put("http_status", 500);
    if (percent < 100) {
      abort.put("percentage", percent);
    }
  }

  /**
   * The upstreams of the rule's backendRefs: one, or several split by weight with {@code
   * traffic-split}; the share of the backends that do not resolve answered with a 500 by {@code
   * fault-injection} (its {@code percentage}, rounded, at least 1 and at most 99 when some backend
   * resolves), which runs before {@code traffic-split} picks among the others.
   */
  private static void backends(
      Flavor flavor,
      HTTPRoute route,
      List<HTTPBackendRef> backends,
      HTTPRouteMatch m,
      String at,
      Refs refs,
      ObjectNode json,
      ObjectNode plugins,
      Translation t) {
    record Weighted(ObjectNode upstream, int weight, ObjectNode plugins) {}
    var ns = route.getMetadata().getNamespace();
    var valid = new ArrayList<Weighted>();
    long invalidWeight = 0;
    for (int j = 0; j < backends.size(); j++) {
      var b = backends.get(j);
      int weight = b.getWeight() == null ? DEFAULT_WEIGHT : b.getWeight();
      if (weight <= 0) {
        continue;
      }
      var bAt = at + ".backendRefs[" + j + "]";
      if (backendProblem(flavor, route, b, bAt, refs) != null) {
        invalidWeight += weight;
        continue;
      }
      var up =
          BackendRefs.serviceUpstream(
              ns, b.getNamespace(), b.getName(), b.getPort(), bAt, null, refs, t);
      if (up == null) {
        invalidWeight += weight;
        continue;
      }
      if (flavor.scheme() != null) {
        up.put("scheme", flavor.scheme());
      } else {
        appProtocol(b, ns, refs, up, json);
      }
      // With several backendRefs, a backend's header and URL rewrite filters apply to the requests
      // it takes (traffic-split entry plugins, Archway's extension); with one, they are the rule's.
      var own = JsonNodeFactory.instance.objectNode();
      if (backends.size() > 1 && b.getFilters() != null) {
        for (var f : b.getFilters()) {
          switch (f.getType()) {
            case "RequestHeaderModifier" ->
                headers(f.getRequestHeaderModifier(), own, "proxy-rewrite");
            case "ResponseHeaderModifier" ->
                headers(f.getResponseHeaderModifier(), own, "response-rewrite");
            case "URLRewrite" -> urlRewrite(f, m, own);
            default -> {}
          }
        }
      }
      valid.add(new Weighted(up, weight, own));
    }
    long validWeight = valid.stream().mapToLong(Weighted::weight).sum();
    long total = validWeight + invalidWeight;
    if (validWeight == 0) {
      // No backend takes traffic (none, all invalid, all weight 0): every request gets a 500.
      abort(plugins, 100);
      return;
    }
    if (invalidWeight > 0) {
      int percent = (int) Math.round(100.0 * invalidWeight / total);
      abort(plugins, Math.max(1, Math.min(99, percent)));
    }
    json.set("upstream", valid.get(0).upstream());
    if (valid.size() > 1 || !valid.get(0).plugins().isEmpty()) {
      var weighted = JsonNodeFactory.instance.arrayNode();
      for (int j = 1; j < valid.size(); j++) {
        var entry = weighted.addObject().put("weight", valid.get(j).weight());
        entry.set("upstream", valid.get(j).upstream());
        if (!valid.get(j).plugins().isEmpty()) {
          entry.set("plugins", valid.get(j).plugins());
        }
      }
      var own = weighted.addObject().put("weight", valid.get(0).weight());
      if (!valid.get(0).plugins().isEmpty()) {
        own.set("plugins", valid.get(0).plugins());
      }
      plugins
          .putObject("traffic-split")
          .putArray("rules")
          .addObject()
          .set("weighted_upstreams", weighted);
    }
  }

  /**
   * What an HTTPRoute backend's Service port {@code appProtocol} asks of its upstream and the
   * route: {@code kubernetes.io/h2c}, HTTP/2 in clear text with prior knowledge ({@code http2:
   * true}); {@code kubernetes.io/ws}, WebSocket upgrades let through ({@code enable_websocket} on
   * the route); {@code kubernetes.io/wss}, the same over TLS ({@code scheme: https}).
   */
  private static void appProtocol(
      HTTPBackendRef b, String ns, Refs refs, ObjectNode upstream, ObjectNode route) {
    var ref =
        new BackendRefs.Ref(b.getGroup(), b.getKind(), b.getName(), b.getNamespace(), b.getPort());
    var proto = BackendRefs.appProtocol(ref, ns, refs);
    if (proto == null) {
      return;
    }
    switch (proto) {
      case "kubernetes.io/h2c" -> upstream.put("http2", true);
      case "kubernetes.io/ws" -> route.put("enable_websocket", true);
      case "kubernetes.io/wss" -> {
        upstream.put("scheme", "https");
        route.put("enable_websocket", true);
      }
      default -> {}
    }
  }

  /**
   * {@code request} and {@code backendRequest}: the route's timeout (connect, send and read) is the
   * shorter of the two, because a route's timeout overrides its upstreams' (APISIX's rule, and the
   * dataplane's): a {@code backendRequest} shorter than {@code request} must still apply, also to
   * the upstreams of a {@code traffic-split}. The upstream keeps {@code backendRequest} too. {@code
   * 0s} means none, as the spec says.
   */
  private static void timeouts(HTTPRouteRule rule, String at, ObjectNode json, Translation t) {
    var timeouts = rule.getTimeouts();
    if (timeouts == null) {
      return;
    }
    var request = timeout(timeouts.getRequest(), at + ".timeouts.request", t);
    var backend = timeout(timeouts.getBackendRequest(), at + ".timeouts.backendRequest", t);
    var shorter =
        request == null
            ? backend
            : backend == null || request.path("read").asDouble() <= backend.path("read").asDouble()
                ? request
                : backend;
    if (shorter != null) {
      json.set("timeout", shorter);
    }
    if (backend != null && json.has("upstream")) {
      ((ObjectNode) json.get("upstream")).set("timeout", backend);
    }
  }

  private static ObjectNode timeout(String value, String field, Translation t) {
    var s = Durations.positive(value, field, t::warn);
    if (s == null) {
      return null;
    }
    var out = JsonNodeFactory.instance.objectNode();
    out.put("connect", s).put("send", s).put("read", s);
    return out;
  }

  /**
   * {@code retry}, on every upstream of the rule (its own, and a {@code traffic-split}'s): {@code
   * attempts} is {@code retries} (another node each time, as the dataplane retries), {@code codes}
   * is {@code retry_on_status} (an answer with one of them is retried when the request's body was
   * held whole) and {@code backoff} is {@code retry_backoff} in seconds.
   */
  private static void retry(HTTPRouteRule rule, ObjectNode json, ObjectNode plugins) {
    var retry = rule.getRetry();
    if (retry == null) {
      return;
    }
    var fields = JsonNodeFactory.instance.objectNode();
    if (retry.getAttempts() != null) {
      fields.put("retries", Math.max(0, retry.getAttempts()));
    }
    var codes = new TreeSet<Integer>();
    if (retry.getCodes() != null) {
      retry.getCodes().stream().filter(HTTPRouteTranslator::retryable).forEach(codes::add);
    }
    if (!codes.isEmpty()) {
      codes.forEach(fields.putArray("retry_on_status")::add);
    }
    // Warned about once per route (unsupported).
    var backoff = Durations.positive(retry.getBackoff(), "retry.backoff", w -> {});
    if (backoff != null) {
      fields.put("retry_backoff", backoff);
    }
    setOnRuleUpstreams(json, plugins, fields);
  }

  /**
   * Sets {@code fields} on every upstream of a rule: the route's own ({@code json}) and each {@code
   * traffic-split} entry's in {@code plugins}, each its own copy.
   */
  static void setOnRuleUpstreams(ObjectNode json, ObjectNode plugins, ObjectNode fields) {
    if (json.get("upstream") instanceof ObjectNode up) {
      up.setAll(fields.deepCopy());
    }
    for (var r : plugins.path("traffic-split").path("rules")) {
      for (var w : r.path("weighted_upstreams")) {
        if (w.get("upstream") instanceof ObjectNode up) {
          up.setAll(fields.deepCopy());
        }
      }
    }
  }

  /** A status {@code retry.codes} may hold (the dataplane's {@code retry_on_status} range). */
  private static boolean retryable(Integer code) {
    return code != null && code >= 400 && code <= 599;
  }

  /** Warnings, once per route, for what is accepted but not served. */
  private static void unsupported(HTTPRoute route, Translation t) {
    var rules =
        route.getSpec().getRules() == null ? List.<HTTPRouteRule>of() : route.getSpec().getRules();
    for (int i = 0; i < rules.size(); i++) {
      var rule = rules.get(i);
      var at = "spec.rules[" + i + "]";
      // Served (routes()); what it cannot serve as written is said once per route, here.
      SessionPersistences.model(rule.getSessionPersistence(), at + ".sessionPersistence", t::warn);
      var retry = rule.getRetry();
      if (retry != null && retry.getCodes() != null) {
        for (var code : retry.getCodes()) {
          if (!retryable(code)) {
            t.warn(at + ".retry.codes: " + code + " is not a status from 400 to 599 (ignored)");
          }
        }
      }
      if (retry != null) {
        Durations.positive(retry.getBackoff(), at + ".retry.backoff", t::warn);
      }
    }
  }
}
