package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.Enums;
import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixRouteSpec;
import io.archway.crds.apisix.ApisixRouteSpec.Http;
import io.archway.model.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * An ApisixRoute as APISIX routes and stream routes: one route per http rule (id {@code
 * ar_<namespace>_<name>_<rule>}) with its upstream inline, several backends split by weight with
 * {@code traffic-split}; one stream route per stream rule.
 */
public final class ApisixRouteTranslator {

  private ApisixRouteTranslator() {}

  public static String routeId(String ns, String name, String rule) {
    return Ids.of("ar", ns, name, rule);
  }

  public static Translation translate(ApisixRoute ar, Refs refs) {
    var t = new Translation();
    var ns = ar.getMetadata().getNamespace();
    var name = ar.getMetadata().getName();
    var spec = ar.getSpec();
    if (spec == null
        || ((spec.http == null || spec.http.isEmpty())
            && (spec.stream == null || spec.stream.isEmpty()))) {
      t.error("spec", "no http or stream rules (expected: at least one rule)");
      return t;
    }
    if (spec.http != null) {
      eachNamed(
          spec.http, r -> r.name, "spec.http", t, (rule, at) -> http(ns, name, rule, at, refs, t));
      checkOwnClaims(ar, t);
    }
    if (spec.stream != null) {
      eachNamed(
          spec.stream,
          r -> r.name,
          "spec.stream",
          t,
          (rule, at) -> stream(ns, name, rule, at, refs, t));
    }
    return t;
  }

  /** Runs {@code each} on the rules with a name not used by an earlier rule; reports the rest. */
  private static <T> void eachNamed(
      List<T> rules,
      java.util.function.Function<T, String> nameOf,
      String field,
      Translation t,
      java.util.function.BiConsumer<T, String> each) {
    var names = new HashMap<String, Integer>();
    for (int i = 0; i < rules.size(); i++) {
      var rule = rules.get(i);
      var at = field + "[" + i + "]";
      var name = rule == null ? null : nameOf.apply(rule);
      if (name == null || name.isEmpty()) {
        t.error(at + ".name", "missing (expected: the rule's name)");
        continue;
      }
      var first = names.putIfAbsent(name, i);
      if (first != null) {
        t.error(
            at + ".name",
            "\""
                + name
                + "\" is also the name of "
                + field
                + "["
                + first
                + "] (expected: unique rule names)");
        continue;
      }
      each.accept(rule, at);
    }
  }

  private static void http(String ns, String name, Http rule, String at, Refs refs, Translation t) {
    int before = t.errors().size();
    var id = routeId(ns, name, rule.name);
    var route = JsonNodeFactory.instance.objectNode();
    route.put("id", id);
    route.put("name", truncate(ns + "/" + name + "/" + rule.name, 100));
    var fields = new HashMap<String, String>();
    if (rule.match == null) {
      t.error(at + ".match", "missing (expected: {paths, ...})");
      return;
    }
    var m = rule.match;
    if (m.paths == null || m.paths.isEmpty()) {
      t.error(at + ".match.paths", "missing (expected: at least one path)");
    } else {
      strings(route, "uris", m.paths);
      fields.put("uris", at + ".match.paths");
    }
    if (m.hosts != null && !m.hosts.isEmpty()) {
      strings(route, "hosts", m.hosts);
      fields.put("hosts", at + ".match.hosts");
    }
    if (m.methods != null && !m.methods.isEmpty()) {
      for (int j = 0; j < m.methods.size(); j++) {
        if (!Enums.isOneOf(Enums.HttpMethod.class, m.methods.get(j))) {
          t.error(
              at + ".match.methods[" + j + "]",
              Exprs.show(m.methods.get(j))
                  + " (expected: "
                  + Enums.oneOf(Enums.HttpMethod.class)
                  + ")");
        }
      }
      strings(route, "methods", m.methods);
      fields.put("methods", at + ".match.methods");
    }
    if (m.remoteAddrs != null && !m.remoteAddrs.isEmpty()) {
      strings(route, "remote_addrs", m.remoteAddrs);
      fields.put("remote_addrs", at + ".match.remoteAddrs");
    }
    if (m.exprs != null && !m.exprs.isEmpty()) {
      var vars = Exprs.vars(m.exprs, at + ".match.exprs", t);
      if (vars != null) {
        route.set("vars", vars);
      }
    }
    if (m.filterFunc != null) {
      t.error(at + ".match.filter_func", "not supported (Lua functions are not run; use exprs)");
    }
    if (rule.priority != null) {
      route.put("priority", rule.priority);
    }
    if (Boolean.TRUE.equals(rule.websocket)) {
      route.put("enable_websocket", true);
    }
    if (rule.timeout != null) {
      var timeout = Upstreams.timeout(rule.timeout, at + ".timeout", at, t);
      if (timeout != null) {
        route.set("timeout", timeout);
      }
    }
    var plugins = JsonNodeFactory.instance.objectNode();
    authentication(rule.authentication, at + ".authentication", plugins, t);
    PluginsBuilder.add(rule.plugins, at + ".plugins", ns, refs, plugins, t);
    if (rule.pluginConfigName != null && !rule.pluginConfigName.isEmpty()) {
      var pcNs =
          rule.pluginConfigNamespace == null || rule.pluginConfigNamespace.isEmpty()
              ? ns
              : rule.pluginConfigNamespace;
      var pcId = pluginConfig(pcNs, rule.pluginConfigName, at + ".plugin_config_name", refs, t);
      if (pcId != null) {
        route.put("plugin_config_id", pcId);
      }
    } else if (rule.pluginConfigNamespace != null && !rule.pluginConfigNamespace.isEmpty()) {
      t.error(
          at + ".plugin_config_namespace",
          "set without plugin_config_name (expected: both, or neither)");
    }
    if (rule.pluginFlow != null && !rule.pluginFlow.isEmpty()) {
      var flow = refs.pluginFlow(ns, rule.pluginFlow);
      if (flow.isEmpty()) {
        t.error(at + ".pluginFlow", "PluginFlow " + ns + "/" + rule.pluginFlow + " not found");
      } else {
        var ft = PluginFlowTranslator.translate(flow.get(), refs);
        if (!ft.ok()) {
          t.error(
              at + ".pluginFlow",
              "PluginFlow " + ns + "/" + rule.pluginFlow + " is not valid: " + ft.errorMessage());
        } else {
          route.put("plugin_flow_id", PluginFlowTranslator.id(ns, rule.pluginFlow));
        }
      }
    }
    backends(ns, rule, at, refs, route, plugins, t);
    if (!plugins.isEmpty()) {
      route.set("plugins", plugins);
    }
    if (t.errors().size() > before) {
      return;
    }
    fields.put("plugins", at + ".plugins");
    var obj = ModelObjects.read(Kind.ROUTES, route, fields, at, t);
    if (obj != null) {
      t.add(Kind.ROUTES, obj);
    }
  }

  /**
   * The id of the ApisixPluginConfig {@code where/name} a route names in {@code field}, or {@code
   * null} (error recorded) when it is missing or not valid: a route served without the plugins it
   * asks for would silently skip them (an auth plugin, say).
   */
  static String pluginConfig(String where, String name, String field, Refs refs, Translation t) {
    var pc = refs.apisixPluginConfig(where, name);
    if (pc.isEmpty()) {
      t.error(field, "ApisixPluginConfig " + where + "/" + name + " not found");
      return null;
    }
    var pt = ApisixPluginConfigTranslator.translate(pc.get(), refs);
    if (!pt.ok()) {
      t.error(
          field,
          "ApisixPluginConfig " + where + "/" + name + " is not valid: " + pt.errorMessage());
      return null;
    }
    return ApisixPluginConfigTranslator.id(where, name);
  }

  private static void backends(
      String ns,
      Http rule,
      String at,
      Refs refs,
      ObjectNode route,
      ObjectNode plugins,
      Translation t) {
    record Weighted(ObjectNode upstream, int weight) {}
    var all = new ArrayList<Weighted>();
    if (rule.backends != null) {
      for (int j = 0; j < rule.backends.size(); j++) {
        var b = rule.backends.get(j);
        var up = Upstreams.forService(ns, b, at + ".backends[" + j + "]", refs, t);
        if (up != null) {
          all.add(new Weighted(up, b.weight == null ? Upstreams.DEFAULT_WEIGHT : b.weight));
        }
      }
    }
    if (rule.upstreams != null) {
      for (int j = 0; j < rule.upstreams.size(); j++) {
        var u = rule.upstreams.get(j);
        var up = Upstreams.forExternal(ns, u.name, at + ".upstreams[" + j + "]", refs, t);
        if (up != null) {
          all.add(new Weighted(up, u.weight == null ? Upstreams.DEFAULT_WEIGHT : u.weight));
        }
      }
    }
    boolean none =
        (rule.backends == null || rule.backends.isEmpty())
            && (rule.upstreams == null || rule.upstreams.isEmpty());
    if (none) {
      if (plugins.isEmpty() && rule.pluginFlow == null && !route.has("plugin_config_id")) {
        t.error(
            at + ".backends",
            "missing (expected: backends or upstreams, unless plugins answer every request)");
      }
      return;
    }
    if (all.isEmpty()) {
      return;
    }
    route.set("upstream", all.get(0).upstream());
    if (all.size() > 1) {
      if (plugins.has("traffic-split")) {
        t.error(
            at + ".plugins",
            "traffic-split is set and several backends too (expected: one of them)");
        return;
      }
      // APISIX's way of weighting several upstreams: the route's own upstream is the entry
      // without one.
      var weighted = JsonNodeFactory.instance.arrayNode();
      for (int j = 1; j < all.size(); j++) {
        weighted
            .addObject()
            .put("weight", all.get(j).weight())
            .set("upstream", all.get(j).upstream());
      }
      weighted.addObject().put("weight", all.get(0).weight());
      plugins
          .putObject("traffic-split")
          .putArray("rules")
          .addObject()
          .set("weighted_upstreams", weighted);
    }
  }

  private static void authentication(
      ApisixRouteSpec.Authentication auth, String at, ObjectNode plugins, Translation t) {
    if (auth == null || !Boolean.TRUE.equals(auth.enable)) {
      return;
    }
    if (!Enums.isOneOf(Enums.AuthType.class, auth.type)) {
      t.error(
          at + ".type",
          Exprs.show(auth.type) + " (expected: " + Enums.oneOf(Enums.AuthType.class) + ")");
      return;
    }
    var conf = JsonNodeFactory.instance.objectNode();
    switch (auth.type) {
      case "keyAuth" -> {
        if (auth.keyAuth != null && auth.keyAuth.header != null) {
          conf.put("header", auth.keyAuth.header);
        }
        plugins.set("key-auth", conf);
      }
      case "jwtAuth" -> {
        if (auth.jwtAuth != null) {
          putIf(conf, "header", auth.jwtAuth.header);
          putIf(conf, "query", auth.jwtAuth.query);
          putIf(conf, "cookie", auth.jwtAuth.cookie);
        }
        plugins.set("jwt-auth", conf);
      }
      case "ldapAuth" -> {
        if (auth.ldapAuth == null
            || auth.ldapAuth.ldapUri == null
            || auth.ldapAuth.baseDn == null) {
          t.error(at + ".ldapAuth", "missing ldap_uri or base_dn (expected: both)");
          return;
        }
        conf.put("ldap_uri", auth.ldapAuth.ldapUri).put("base_dn", auth.ldapAuth.baseDn);
        if (auth.ldapAuth.useTls != null) {
          conf.put("use_tls", auth.ldapAuth.useTls);
        }
        putIf(conf, "uid", auth.ldapAuth.uid);
        plugins.set("ldap-auth", conf);
      }
      case "basicAuth" -> plugins.set("basic-auth", conf);
      case "hmacAuth" -> plugins.set("hmac-auth", conf);
      default -> plugins.set("wolf-rbac", conf);
    }
    // An auth plugin the dataplane does not run would leave the route unserved, so the
    // resource is refused with the reason.
    plugins
        .properties()
        .forEach(
            e -> {
              var name = e.getKey();
              if (io.archway.model.PluginSchemas.known(name)
                  && !io.archway.model.PluginSchemas.runs(name)) {
                for (var p : io.archway.model.PluginSchemas.check(name, e.getValue(), "")) {
                  t.error(at + ".type", "\"" + auth.type + "\": " + p.message());
                }
              }
            });
  }

  private static void stream(
      String ns, String name, ApisixRouteSpec.Stream rule, String at, Refs refs, Translation t) {
    int before = t.errors().size();
    if (!"TCP".equals(rule.protocol) && !"UDP".equals(rule.protocol)) {
      t.error(at + ".protocol", Exprs.show(rule.protocol) + " (expected: TCP or UDP)");
      return;
    }
    if (rule.match == null || rule.match.ingressPort == null) {
      t.error(at + ".match.ingressPort", "missing (expected: the dataplane's stream port)");
      return;
    }
    if (rule.backend == null) {
      t.error(at + ".backend", "missing (expected: {serviceName, servicePort})");
      return;
    }
    var route = JsonNodeFactory.instance.objectNode();
    route.put("id", routeId(ns, name, rule.name));
    route.put("name", truncate(ns + "/" + name + "/" + rule.name, 100));
    route.put("server_port", rule.match.ingressPort);
    if (rule.match.host != null) {
      route.put("sni", rule.match.host);
    }
    var b = rule.backend;
    var up = Upstreams.forService(ns, b, at + ".backend", refs, t);
    if (up != null) {
      up.remove("pass_host");
      if ("UDP".equals(rule.protocol)) {
        // A UDP rule's ingressPort is one of the dataplane's UDP stream ports
        // (stream_udp_ports); the upstream says the nodes are spoken to over UDP, as APISIX's.
        up.put("scheme", "udp");
      }
      route.set("upstream", up);
    }
    var plugins = JsonNodeFactory.instance.objectNode();
    PluginsBuilder.add(rule.plugins, at + ".plugins", ns, refs, plugins, t);
    if (!plugins.isEmpty()) {
      route.set("plugins", plugins);
    }
    if (t.errors().size() > before) {
      return;
    }
    var obj =
        ModelObjects.read(
            Kind.STREAM_ROUTES,
            route,
            Map.of("sni", at + ".match.host", "server_port", at + ".match.ingressPort"),
            at,
            t);
    if (obj != null) {
      t.add(Kind.STREAM_ROUTES, obj);
    }
  }

  /** What the resource's http rules claim, for conflict checks between resources. */
  public static List<Claim> claims(ApisixRoute ar) {
    var out = new ArrayList<Claim>();
    var spec = ar.getSpec();
    if (spec == null || spec.http == null) {
      return out;
    }
    for (int i = 0; i < spec.http.size(); i++) {
      var rule = spec.http.get(i);
      if (rule == null || rule.match == null || rule.match.paths == null) {
        continue;
      }
      var m = rule.match;
      var methods = m.methods == null ? List.<String>of() : List.copyOf(new TreeSet<>(m.methods));
      var discriminator =
          (rule.priority == null ? 0 : rule.priority)
              + "|"
              + (m.remoteAddrs == null ? "" : new TreeSet<>(m.remoteAddrs))
              + "|"
              + (m.exprs == null ? "" : exprKey(m.exprs));
      var hosts = m.hosts == null || m.hosts.isEmpty() ? List.of("*") : m.hosts;
      for (var h : hosts) {
        for (var p : m.paths) {
          out.add(new Claim(h, p, methods, discriminator, "spec.http[" + i + "]"));
        }
      }
    }
    return out;
  }

  private static String exprKey(List<ApisixRouteSpec.Expr> exprs) {
    var t = new Translation();
    var vars = Exprs.vars(exprs, "", t);
    return vars == null ? "invalid" : vars.toString();
  }

  private static void checkOwnClaims(ApisixRoute ar, Translation t) {
    var claims = claims(ar);
    for (int i = 0; i < claims.size(); i++) {
      for (int j = 0; j < i; j++) {
        var a = claims.get(j);
        var b = claims.get(i);
        if (!a.field().equals(b.field()) && a.conflictsWith(b)) {
          t.error(
              b.field() + ".match",
              b.describe()
                  + " is also matched by "
                  + a.field()
                  + " (expected: each host and path once, or a priority to order them)");
          return;
        }
      }
    }
  }

  static void strings(ObjectNode out, String name, List<String> values) {
    ArrayNode arr = out.putArray(name);
    values.forEach(arr::add);
  }

  private static void putIf(ObjectNode o, String name, String value) {
    if (value != null) {
      o.put(name, value);
    }
  }

  static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
