package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.archway.model.UserRegex;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@code networking.k8s.io/v1} Ingress as APISIX routes: one per host and path (id {@code
 * ing_<namespace>_<name>_<hash of host, path and type>}, stable when rules are reordered), the
 * default backend as a catch-all route, and the APISIX Ingress Controller's {@code
 * k8s.apisix.apache.org/*} annotations for the features Archway has. Any other annotation of that
 * prefix is an error naming it, never dropped silently.
 */
public final class IngressTranslator {

  public static final String ANNOTATION_PREFIX = "k8s.apisix.apache.org/";

  static final Set<String> SUPPORTED =
      Set.of(
          "enable-websocket",
          "upstream-scheme",
          "upstream-retries",
          "upstream-connect-timeout",
          "upstream-read-timeout",
          "upstream-send-timeout",
          "rewrite-target",
          "rewrite-target-regex",
          "rewrite-target-regex-template",
          "http-to-https",
          "enable-cors",
          "cors-allow-origin",
          "cors-allow-headers",
          "cors-allow-methods",
          "allowlist-source-range",
          "blocklist-source-range",
          "auth-type",
          "use-regex",
          "http-allow-methods",
          "http-block-methods",
          "enable-response-rewrite",
          "response-rewrite-status-code",
          "response-rewrite-body",
          "response-rewrite-body-base64",
          "response-rewrite-add-header",
          "response-rewrite-set-header",
          "response-rewrite-remove-header",
          "http-redirect",
          "http-redirect-code",
          "plugin-config-name",
          "svc-namespace",
          // csrf and forward-auth (applyAuthPlugins)
          "enable-csrf",
          "csrf-key",
          "auth-uri",
          "auth-ssl-verify",
          "auth-request-headers",
          "auth-upstream-headers",
          "auth-client-headers");

  private IngressTranslator() {}

  /**
   * {@code spec.tls}: each entry's hosts served with the certificate of its Secret (in the
   * Ingress's namespace), as {@code ssls/ing_<namespace>_<name>_tls<i>}. A Secret that is missing
   * or holds no usable certificate is a warning: the rules are still served.
   */
  /**
   * The {@code plugin_configs} id the annotation {@code plugin-config-name} names: an
   * ApisixPluginConfig (AIC 1.x and 2.x) or, when there is none of that name, a PluginConfig of
   * {@code apisix.apache.org/v1alpha1} (AIC 2.x's own kind); null with an error when neither is
   * there or the one found is not valid.
   */
  private static String pluginConfig(String ns, String name, Refs refs, Translation t) {
    var field = "metadata.annotations." + ANNOTATION_PREFIX + "plugin-config-name";
    if (refs.apisixPluginConfig(ns, name).isPresent()) {
      return ApisixRouteTranslator.pluginConfig(ns, name, field, refs, t);
    }
    var pc = refs.pluginConfig(ns, name);
    if (pc.isEmpty()) {
      t.error(field, "ApisixPluginConfig or PluginConfig " + ns + "/" + name + " not found");
      return null;
    }
    var pt = PluginConfigTranslator.translate(pc.get(), refs);
    if (!pt.ok()) {
      t.error(field, "PluginConfig " + ns + "/" + name + " is not valid: " + pt.errorMessage());
      return null;
    }
    return PluginConfigTranslator.id(ns, name);
  }

  private static void tls(
      List<io.fabric8.kubernetes.api.model.networking.v1.IngressTLS> entries,
      String ns,
      String name,
      Refs refs,
      Translation t) {
    for (int i = 0; i < entries.size(); i++) {
      var e = entries.get(i);
      var at = "spec.tls[" + i + "]";
      if (e.getHosts() == null || e.getHosts().isEmpty()) {
        t.warn(at + ": no hosts; its certificate is not served (name the hosts it covers)");
        continue;
      }
      // A certificate that cannot be served leaves the routes alone: they are still served over
      // HTTP, and the problem is reported as a warning naming the entry.
      var scratch = new Translation();
      var pair = TlsSecrets.pair(refs, ns, e.getSecretName(), at + ".secretName", scratch);
      if (pair != null) {
        TlsSecrets.ssl(
            Ids.of("ing", ns, name, "tls" + i),
            e.getHosts(),
            pair,
            null,
            null,
            null,
            java.util.Map.of("snis", at + ".hosts"),
            at,
            scratch);
      }
      scratch.warningsWithReason().forEach(w -> t.warn(w, ""));
      if (scratch.ok()) {
        scratch.items().forEach(item -> t.add(item.kind(), item.object()));
      } else {
        scratch
            .errors()
            .forEach(err -> t.warn(err + "; the hosts of " + at + " get no certificate from it"));
      }
    }
  }

  public static Translation translate(Ingress ing, Refs refs) {
    var t = new Translation();
    var ns = ing.getMetadata().getNamespace();
    var name = ing.getMetadata().getName();
    var byName = annotations(ing, t);
    var ann = annotated(byName, t);
    HTTPRoutePolicyTranslator.apply(ns, name, ann.route(), refs, t);
    var spec = ing.getSpec();
    if (spec == null
        || ((spec.getRules() == null || spec.getRules().isEmpty())
            && spec.getDefaultBackend() == null)) {
      t.error("spec", "no rules and no defaultBackend (expected: at least one)");
      return t;
    }
    if (spec.getTls() != null) {
      tls(spec.getTls(), ns, name, refs, t);
    }
    boolean regex = "true".equals(byName.get("use-regex"));
    // svc-namespace: the backends' Services are in that namespace, not the Ingress's.
    var svcNs = byName.getOrDefault("svc-namespace", ns);
    if (!svcNs.matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")) {
      t.error(
          "metadata.annotations." + ANNOTATION_PREFIX + "svc-namespace",
          "\"" + svcNs + "\" (expected: a namespace name)");
      return t;
    }
    if (byName.containsKey("plugin-config-name")) {
      var id = pluginConfig(ns, byName.get("plugin-config-name"), refs, t);
      if (id != null) {
        ann.route().put("plugin_config_id", id);
      }
    }
    var rules = rules(spec);
    for (int i = 0; i < rules.size(); i++) {
      var rule = rules.get(i);
      var at = "spec.rules[" + i + "]";
      if (rule.getHttp() == null || rule.getHttp().getPaths() == null) {
        t.error(at + ".http", "missing (expected: paths)");
        continue;
      }
      var paths = rule.getHttp().getPaths();
      for (int j = 0; j < paths.size(); j++) {
        var p = paths.get(j);
        var pat = at + ".http.paths[" + j + "]";
        var path = p.getPath() == null || p.getPath().isEmpty() ? "/" : p.getPath();
        var type = p.getPathType() == null ? "ImplementationSpecific" : p.getPathType();
        var route = JsonNodeFactory.instance.objectNode();
        route.put(
            "id",
            Ids.of(
                "ing",
                ns,
                name,
                Ids.hash(rule.getHost() + "|" + path + "|" + type).substring(0, 10)));
        route.put(
            "name",
            ApisixRouteTranslator.truncate(
                ns + "/" + name + " " + (rule.getHost() == null ? "" : rule.getHost()) + path,
                100));
        if (rule.getHost() != null && !rule.getHost().isEmpty()) {
          route.putArray("hosts").add(rule.getHost());
        }
        if (!paths(route, path, type, regex, pat, t)) {
          continue;
        }
        route(svcNs, route, p.getBackend(), ann, pat + ".backend", at + ".host", refs, t);
      }
    }
    if (spec.getDefaultBackend() != null) {
      var route = JsonNodeFactory.instance.objectNode();
      route.put("id", Ids.of("ing", ns, name, "default"));
      route.put("name", ApisixRouteTranslator.truncate(ns + "/" + name + " default backend", 100));
      route.putArray("uris").add("/*");
      route.put("priority", -1);
      route(svcNs, route, spec.getDefaultBackend(), ann, "spec.defaultBackend", "spec", refs, t);
    }
    return t;
  }

  /** The paths of one Ingress path; false (error recorded) when it is not valid. */
  private static boolean paths(
      ObjectNode route, String path, String type, boolean regex, String at, Translation t) {
    if (regex) {
      var expected = UserRegex.problem(path);
      if (expected != null) {
        t.error(at + ".path", "\"" + path + "\" (expected with use-regex: " + expected + ")");
        return false;
      }
      route.putArray("uris").add("/*");
      route.putArray("vars").addArray().add("uri").add("~~").add(path);
      return true;
    }
    if (!path.startsWith("/")) {
      t.error(at + ".path", "\"" + path + "\" (expected: starts with \"/\")");
      return false;
    }
    var uris = route.putArray("uris");
    switch (type) {
      case "Exact" -> uris.add(path);
      case "Prefix" -> {
        // Prefix matches whole path segments: /foo matches /foo and /foo/bar, not /foobar.
        var p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        if (p.isEmpty()) {
          uris.add("/*");
        } else {
          uris.add(p).add(p + "/*");
        }
      }
      case "ImplementationSpecific" -> uris.add(path);
      default -> {
        t.error(
            at + ".pathType",
            "\"" + type + "\" (expected: Exact, Prefix or ImplementationSpecific)");
        return false;
      }
    }
    return true;
  }

  private static void route(
      String ns,
      ObjectNode route,
      IngressBackend backend,
      Annotated ann,
      String at,
      String hostField,
      Refs refs,
      Translation t) {
    if (backend == null || backend.getService() == null) {
      t.error(
          at,
          (backend != null && backend.getResource() != null
                  ? "resource backends are not supported"
                  : "missing")
              + " (expected: service{name, port})");
      return;
    }
    var svc = backend.getService();
    var port = svc.getPort();
    IntOrString servicePort = null;
    if (port != null && port.getNumber() != null) {
      servicePort = new IntOrString(port.getNumber());
    } else if (port != null && port.getName() != null) {
      servicePort = new IntOrString(port.getName());
    }
    var up =
        Upstreams.forService(
            ns,
            svc.getName(),
            servicePort,
            null,
            null,
            new Upstreams.BackendFields(
                at + ".service", at + ".service.name", at + ".service.port"),
            refs,
            t);
    if (up == null
        || !BackendTrafficPolicyTranslator.apply(
            ns, svc.getName(), servicePort, up, at + ".service", refs, t)) {
      return;
    }
    up.setAll(ann.upstream().deepCopy());
    var plugins = ann.plugins().deepCopy();
    for (var e : ann.route().properties()) {
      if (e.getKey().equals("priority") && route.has("priority")) {
        continue; // the default backend stays the catch-all (an HTTPRoutePolicy's priority)
      } else if (e.getKey().equals("vars") && route.has("vars")) {
        ((com.fasterxml.jackson.databind.node.ArrayNode) route.get("vars"))
            .addAll((com.fasterxml.jackson.databind.node.ArrayNode) e.getValue().deepCopy());
      } else {
        route.set(e.getKey(), e.getValue().deepCopy());
      }
    }
    route.set("upstream", up);
    if (!plugins.isEmpty()) {
      route.set("plugins", plugins);
    }
    var obj = ModelObjects.read(Kind.ROUTES, route, Map.of("hosts", hostField), at, t);
    if (obj != null) {
      t.add(Kind.ROUTES, obj);
    }
  }

  /** Our annotations by their short name; unknown ones of our prefix are errors. */
  private static Map<String, String> annotations(Ingress ing, Translation t) {
    var out = new TreeMap<String, String>();
    var all = ing.getMetadata().getAnnotations();
    if (all == null) {
      return out;
    }
    for (var e : all.entrySet()) {
      if (!e.getKey().startsWith(ANNOTATION_PREFIX)) {
        continue;
      }
      var name = e.getKey().substring(ANNOTATION_PREFIX.length());
      if (SUPPORTED.contains(name)) {
        out.put(name, e.getValue() == null ? "" : e.getValue().trim());
      } else {
        // Served without it, the Ingress would not do what it says: refused, naming it.
        t.error(
            "metadata.annotations." + e.getKey(),
            "annotation not supported by Archway (expected: one of "
                + String.join(", ", new java.util.TreeSet<>(SUPPORTED))
                + ")");
      }
    }
    return out;
  }

  /**
   * What the annotations add to every route of the Ingress: route fields, upstream fields, plugins.
   */
  private record Annotated(ObjectNode route, ObjectNode upstream, ObjectNode plugins) {}

  /** The annotations read once per Ingress, so each problem is reported once. */
  private static Annotated annotated(Map<String, String> ann, Translation t) {
    var f = JsonNodeFactory.instance;
    var out = new Annotated(f.objectNode(), f.objectNode(), f.objectNode());
    applyAnnotations(ann, out.route(), out.upstream(), out.plugins(), t);
    return out;
  }

  private static void applyAnnotations(
      Map<String, String> ann, ObjectNode route, ObjectNode up, ObjectNode plugins, Translation t) {
    var where = "metadata.annotations." + ANNOTATION_PREFIX;
    if (ann.containsKey("enable-websocket")) {
      route.put("enable_websocket", bool(ann, "enable-websocket", t));
    }
    if (ann.containsKey("upstream-scheme")) {
      var scheme = ann.get("upstream-scheme");
      if (!List.of("http", "https", "grpc", "grpcs").contains(scheme)) {
        t.error(
            where + "upstream-scheme", "\"" + scheme + "\" (expected: http, https, grpc or grpcs)");
      }
      up.put("scheme", scheme);
    }
    if (ann.containsKey("upstream-retries")) {
      try {
        int retries = Integer.parseInt(ann.get("upstream-retries"));
        if (retries < 0) {
          throw new NumberFormatException();
        }
        up.put("retries", retries);
      } catch (NumberFormatException e) {
        t.error(
            where + "upstream-retries",
            "\"" + ann.get("upstream-retries") + "\" (expected: an integer >= 0)");
      }
    }
    var timeout = JsonNodeFactory.instance.objectNode();
    for (var kind : List.of("connect", "read", "send")) {
      var key = "upstream-" + kind + "-timeout";
      if (ann.containsKey(key)) {
        var seconds = Durations.seconds(ann.get(key));
        if (seconds == null || seconds <= 0) {
          t.error(
              where + key,
              "\"" + ann.get(key) + "\" (expected: a duration > 0 such as 5s, 500ms or 1m30s)");
        } else {
          timeout.put(kind, seconds);
        }
      }
    }
    if (!timeout.isEmpty()) {
      up.set("timeout", timeout);
    }
    if (ann.containsKey("rewrite-target") || ann.containsKey("rewrite-target-regex")) {
      var rewrite = plugins.putObject("proxy-rewrite");
      if (ann.containsKey("rewrite-target-regex")) {
        var template = ann.get("rewrite-target-regex-template");
        if (template == null) {
          t.error(
              where + "rewrite-target-regex-template",
              "missing (expected: set with rewrite-target-regex)");
        } else {
          var expected = UserRegex.problem(ann.get("rewrite-target-regex"));
          if (expected != null) {
            t.error(
                where + "rewrite-target-regex",
                "\"" + ann.get("rewrite-target-regex") + "\" (expected: " + expected + ")");
          }
          rewrite.putArray("regex_uri").add(ann.get("rewrite-target-regex")).add(template);
        }
      } else {
        rewrite.put("uri", ann.get("rewrite-target"));
      }
      check("proxy-rewrite", rewrite, where + "rewrite-target", t);
    }
    if (ann.containsKey("http-to-https") && bool(ann, "http-to-https", t)) {
      plugins.putObject("redirect").put("http_to_https", true);
    }
    if (ann.containsKey("http-redirect-code") && !ann.containsKey("http-redirect")) {
      t.error(where + "http-redirect-code", "set without http-redirect (expected: both)");
    }
    if (ann.containsKey("http-redirect")) {
      if (plugins.has("redirect")) {
        t.error(where + "http-redirect", "set with http-to-https (expected: one of them)");
      } else {
        var redirect = plugins.putObject("redirect").put("uri", ann.get("http-redirect"));
        if (ann.containsKey("http-redirect-code")) {
          var code = integer(ann, "http-redirect-code", t);
          if (code != null) {
            redirect.put("ret_code", code);
          }
        }
        check("redirect", redirect, where + "http-redirect", t);
      }
    }
    responseRewrite(ann, plugins, t);
    if (ann.containsKey("enable-cors") && bool(ann, "enable-cors", t)) {
      var cors = plugins.putObject("cors");
      putIf(cors, "allow_origins", ann.get("cors-allow-origin"));
      putIf(cors, "allow_headers", ann.get("cors-allow-headers"));
      putIf(cors, "allow_methods", ann.get("cors-allow-methods"));
      check("cors", cors, where + "enable-cors", t);
    }
    if (ann.containsKey("allowlist-source-range") || ann.containsKey("blocklist-source-range")) {
      var allow = ann.containsKey("allowlist-source-range");
      var key = allow ? "allowlist-source-range" : "blocklist-source-range";
      if (allow && ann.containsKey("blocklist-source-range")) {
        t.error(
            where + "blocklist-source-range",
            "set with allowlist-source-range (expected: one of them)");
      }
      var ip = plugins.putObject("ip-restriction");
      var list = ip.putArray(allow ? "whitelist" : "blacklist");
      for (var cidr : ann.get(key).split(",")) {
        if (!cidr.isBlank()) {
          list.add(cidr.trim());
        }
      }
      check("ip-restriction", ip, where + key, t);
    }
    if (ann.containsKey("http-allow-methods") && ann.containsKey("http-block-methods")) {
      t.error(where + "http-block-methods", "set with http-allow-methods (expected: one of them)");
    } else if (ann.containsKey("http-allow-methods")) {
      var methods = methods(ann.get("http-allow-methods"), where + "http-allow-methods", t);
      if (methods != null) {
        var arr = route.putArray("methods");
        methods.forEach(arr::add);
      }
    } else if (ann.containsKey("http-block-methods")) {
      var methods = methods(ann.get("http-block-methods"), where + "http-block-methods", t);
      if (methods != null) {
        var vars =
            route.has("vars")
                ? (com.fasterxml.jackson.databind.node.ArrayNode) route.get("vars")
                : route.putArray("vars");
        var set = vars.addArray().add("request_method").add("!").add("in").addArray();
        methods.forEach(set::add);
      }
    }
    if (ann.containsKey("auth-type")) {
      switch (ann.get("auth-type")) {
        case "basicAuth" -> plugins.putObject("basic-auth");
        case "keyAuth" -> plugins.putObject("key-auth");
        default ->
            t.error(
                where + "auth-type",
                "\"" + ann.get("auth-type") + "\" (expected: basicAuth or keyAuth)");
      }
    }
    applyAuthPlugins(ann, plugins, where, t);
  }

  /**
   * The csrf and forward-auth annotations, as the APISIX Ingress Controller reads them: {@code
   * enable-csrf: "true"} with {@code csrf-key} is the csrf plugin; {@code auth-uri} is
   * forward-auth, with {@code auth-ssl-verify} (false unless "true", as there) and the
   * comma-separated {@code auth-request-headers}, {@code auth-upstream-headers} and {@code
   * auth-client-headers}. What the controller would silently drop (a key without enable-csrf,
   * headers without auth-uri) is an error here.
   */
  private static void applyAuthPlugins(
      Map<String, String> ann, ObjectNode plugins, String where, Translation t) {
    if (ann.containsKey("enable-csrf")) {
      if (bool(ann, "enable-csrf", t)) {
        var key = ann.get("csrf-key");
        if (key == null || key.isEmpty()) {
          t.error(where + "csrf-key", "missing (expected: the key csrf tokens are signed with)");
        } else {
          plugins.putObject("csrf").put("key", key);
        }
      }
    } else if (ann.containsKey("csrf-key")) {
      t.error(where + "csrf-key", "set without enable-csrf: \"true\" (expected: both)");
    }
    if (ann.containsKey("auth-uri")) {
      var conf = plugins.putObject("forward-auth");
      conf.put("uri", ann.get("auth-uri"));
      conf.put("ssl_verify", ann.containsKey("auth-ssl-verify") && bool(ann, "auth-ssl-verify", t));
      for (var name : List.of("request", "upstream", "client")) {
        var list = ann.get("auth-" + name + "-headers");
        if (list != null) {
          var arr = conf.putArray(name + "_headers");
          for (var h : list.split(",")) {
            if (!h.isBlank()) {
              arr.add(h.trim());
            }
          }
        }
      }
    } else {
      for (var name :
          List.of(
              "auth-ssl-verify",
              "auth-request-headers",
              "auth-upstream-headers",
              "auth-client-headers")) {
        if (ann.containsKey(name)) {
          t.error(where + name, "set without auth-uri (expected: auth-uri, the forward-auth URL)");
        }
      }
    }
  }

  /**
   * {@code enable-response-rewrite} and its {@code response-rewrite-*} settings as the
   * response-rewrite plugin. Settings without {@code enable-response-rewrite: "true"} are an error:
   * they would do nothing.
   */
  private static void responseRewrite(Map<String, String> ann, ObjectNode plugins, Translation t) {
    var where = "metadata.annotations." + ANNOTATION_PREFIX;
    var settings =
        ann.keySet().stream().filter(k -> k.startsWith("response-rewrite-")).sorted().toList();
    boolean enabled =
        ann.containsKey("enable-response-rewrite") && bool(ann, "enable-response-rewrite", t);
    if (!enabled) {
      if (!settings.isEmpty() && !ann.containsKey("enable-response-rewrite")) {
        t.error(
            where + settings.get(0),
            "set without enable-response-rewrite: \"true\" (expected: both, or neither)");
      }
      return;
    }
    var rr = plugins.putObject("response-rewrite");
    if (ann.containsKey("response-rewrite-status-code")) {
      var code = integer(ann, "response-rewrite-status-code", t);
      if (code != null) {
        rr.put("status_code", code);
      }
    }
    if (ann.containsKey("response-rewrite-body")) {
      rr.put("body", ann.get("response-rewrite-body"));
    }
    if (ann.containsKey("response-rewrite-body-base64")) {
      rr.put("body_base64", bool(ann, "response-rewrite-body-base64", t));
    }
    var headers = JsonNodeFactory.instance.objectNode();
    if (ann.containsKey("response-rewrite-add-header")) {
      var add = headers.putArray("add");
      headerPairs(ann, "response-rewrite-add-header", t).forEach((k, v) -> add.add(k + ": " + v));
    }
    if (ann.containsKey("response-rewrite-set-header")) {
      var set = headers.putObject("set");
      headerPairs(ann, "response-rewrite-set-header", t).forEach(set::put);
    }
    if (ann.containsKey("response-rewrite-remove-header")) {
      var remove = headers.putArray("remove");
      for (var h : ann.get("response-rewrite-remove-header").split(",")) {
        if (!h.isBlank()) {
          remove.add(h.trim());
        }
      }
    }
    if (!headers.isEmpty()) {
      rr.set("headers", headers);
    }
    check("response-rewrite", rr, where + "enable-response-rewrite", t);
  }

  /** {@code name1:value1,name2:value2}, in order; pairs without a colon are errors. */
  private static Map<String, String> headerPairs(
      Map<String, String> ann, String key, Translation t) {
    var out = new java.util.LinkedHashMap<String, String>();
    for (var pair : ann.get(key).split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int colon = pair.indexOf(':');
      if (colon <= 0) {
        t.error(
            "metadata.annotations." + ANNOTATION_PREFIX + key,
            "\"" + pair.trim() + "\" (expected: name:value pairs separated by commas)");
        continue;
      }
      out.put(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim());
    }
    return out;
  }

  private static Integer integer(Map<String, String> ann, String key, Translation t) {
    try {
      return Integer.parseInt(ann.get(key));
    } catch (NumberFormatException e) {
      t.error(
          "metadata.annotations." + ANNOTATION_PREFIX + key,
          "\"" + ann.get(key) + "\" (expected: an integer)");
      return null;
    }
  }

  /** A comma-separated list of HTTP methods; {@code null} (error recorded) when one is not. */
  private static List<String> methods(String value, String field, Translation t) {
    var out = new ArrayList<String>();
    for (var m : value.split(",")) {
      var method = m.trim().toUpperCase(java.util.Locale.ROOT);
      if (!io.archway.model.Route.METHODS.contains(method)) {
        t.error(field, "\"" + m.trim() + "\" (expected: HTTP methods such as GET,POST)");
        return null;
      }
      out.add(method);
    }
    return out;
  }

  private static void check(String plugin, ObjectNode conf, String field, Translation t) {
    for (var p : io.archway.model.PluginSchemas.check(plugin, conf, plugin)) {
      t.error(field, p.toString());
    }
  }

  private static boolean bool(Map<String, String> ann, String key, Translation t) {
    var v = ann.get(key);
    if (!v.equals("true") && !v.equals("false")) {
      t.error(
          "metadata.annotations." + ANNOTATION_PREFIX + key,
          "\"" + v + "\" (expected: \"true\" or \"false\")");
      return false;
    }
    return v.equals("true");
  }

  private static void putIf(ObjectNode o, String name, String value) {
    if (value != null && !value.isEmpty()) {
      o.put(name, value);
    }
  }

  private static List<io.fabric8.kubernetes.api.model.networking.v1.IngressRule> rules(
      io.fabric8.kubernetes.api.model.networking.v1.IngressSpec spec) {
    return spec.getRules() == null ? List.of() : spec.getRules();
  }

  /** What the Ingress's paths claim, for conflict checks with other Ingresses and ApisixRoutes. */
  public static List<Claim> claims(Ingress ing) {
    return claims(ing, null);
  }

  /** As {@link #claims(Ingress)}, told apart by the HTTPRoutePolicy {@code refs} hold for it. */
  public static List<Claim> claims(Ingress ing, Refs refs) {
    var out = new ArrayList<Claim>();
    var d =
        HTTPRoutePolicyTranslator.discriminator(
            ing.getMetadata().getNamespace(), ing.getMetadata().getName(), refs);
    var spec = ing.getSpec();
    if (spec == null) {
      return out;
    }
    var rules = rules(spec);
    for (int i = 0; i < rules.size(); i++) {
      var rule = rules.get(i);
      if (rule.getHttp() == null || rule.getHttp().getPaths() == null) {
        continue;
      }
      var host = rule.getHost() == null || rule.getHost().isEmpty() ? "*" : rule.getHost();
      var seen = new HashMap<String, Integer>();
      for (int j = 0; j < rule.getHttp().getPaths().size(); j++) {
        var p = rule.getHttp().getPaths().get(j);
        var path = p.getPath() == null || p.getPath().isEmpty() ? "/" : p.getPath();
        var type = p.getPathType() == null ? "ImplementationSpecific" : p.getPathType();
        if ("Prefix".equals(type)) {
          var base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
          if (!base.isEmpty()) {
            out.add(
                new Claim(host, base, List.of(), d, "spec.rules[" + i + "].http.paths[" + j + "]"));
          }
          out.add(
              new Claim(
                  host, base + "/*", List.of(), d, "spec.rules[" + i + "].http.paths[" + j + "]"));
        } else if (seen.putIfAbsent(path, j) == null) {
          out.add(
              new Claim(host, path, List.of(), d, "spec.rules[" + i + "].http.paths[" + j + "]"));
        }
      }
    }
    return out;
  }
}
