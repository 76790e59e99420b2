package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Route configurations to routes: virtual hosts, order, header changes, redirects, faults. */
final class XdsRoutes {

  private XdsRoutes() {}

  static RouteSet routes(RouteConfiguration rc) throws XdsException {
    var where = "route configuration " + q(rc.getName());
    only(
        rc,
        where,
        "name",
        "virtual_hosts",
        "request_headers_to_add",
        "request_headers_to_remove",
        "response_headers_to_add",
        "response_headers_to_remove",
        "validate_clusters",
        "ignore_port_in_host_matching",
        "max_direct_response_body_size_bytes",
        "metadata");
    var out = new ArrayList<ObjectNode>();
    var variants = new TreeMap<String, Variant>();
    var vhostNames = new LinkedHashSet<String>();
    for (var vh : rc.getVirtualHostsList()) {
      var vw = where + ": virtual host " + q(vh.getName());
      if (!vhostNames.add(vh.getName())) {
        throw new XdsException(vw + ": name: used twice (expected: unique)");
      }
      only(
          vh,
          vw,
          "name",
          "domains",
          "routes",
          "request_headers_to_add",
          "request_headers_to_remove",
          "response_headers_to_add",
          "response_headers_to_remove",
          "include_request_attempt_count",
          "include_attempt_count_in_response",
          "metadata");
      var hosts = hosts(vh, vw);
      int n = vh.getRoutesCount();
      for (int j = 0; j < n; j++) {
        var route = vh.getRoutes(j);
        var rw =
            vw
                + ": routes["
                + j
                + "]"
                + (route.getName().isEmpty() ? "" : " " + q(route.getName()));
        out.add(route(rc, vh, route, j, n, hosts, rw, variants));
      }
    }
    return new RouteSet(rc.getName(), List.copyOf(out), Map.copyOf(variants));
  }

  static ArrayNode hosts(VirtualHost vh, String where) throws XdsException {
    var hosts = new LinkedHashSet<String>();
    for (var d : vh.getDomainsList()) {
      if (d.equals("*")) {
        return null;
      }
      // Archway matches the host without its port (Istio's ignore_port_in_host_matching).
      var host = d.replaceFirst(":(\\*|[0-9]+)$", "").toLowerCase(Locale.ROOT);
      if (host.endsWith("*") || host.contains("[")) {
        throw new XdsException(
            where
                + ": domains: "
                + q(d)
                + " not supported (expected: a host name, *.suffix, or * alone)");
      }
      hosts.add(host);
    }
    if (hosts.isEmpty()) {
      throw new XdsException(where + ": domains: empty (expected: at least one)");
    }
    var arr = J.arrayNode();
    hosts.forEach(arr::add);
    return arr;
  }

  static ObjectNode route(
      RouteConfiguration rc,
      VirtualHost vh,
      Route route,
      int index,
      int count,
      ArrayNode hosts,
      String where,
      Map<String, Variant> variants)
      throws XdsException {
    only(
        route,
        where,
        "name",
        "match",
        "route",
        "redirect",
        "direct_response",
        "request_headers_to_add",
        "request_headers_to_remove",
        "response_headers_to_add",
        "response_headers_to_remove",
        "typed_per_filter_config",
        "decorator",
        "metadata");
    var r = J.objectNode();
    r.put("id", id(rc.getName() + "/" + vh.getName() + "/" + index));
    var name = route.getName().isEmpty() ? vh.getName() : route.getName();
    if (!name.isEmpty()) {
      r.put("name", name.length() > 100 ? name.substring(0, 100) : name);
    }
    var desc = "xds " + rc.getName() + " " + vh.getName() + " #" + index;
    r.put("desc", desc.length() > 256 ? desc.substring(0, 256) : desc);
    r.put("uri", "/*");
    if (hosts != null) {
      r.set("hosts", hosts.deepCopy());
    }
    r.put("priority", count - index);
    var vars = XdsMatches.match(route.getMatch(), where + ": match");
    if (!vars.isEmpty()) {
      r.set("vars", vars);
    }
    var plugins = r.putObject("plugins");
    var request = new HeaderOps();
    var response = new HeaderOps();
    request.add(rc.getRequestHeadersToAddList(), rc.getRequestHeadersToRemoveList(), where);
    request.add(vh.getRequestHeadersToAddList(), vh.getRequestHeadersToRemoveList(), where);
    request.add(route.getRequestHeadersToAddList(), route.getRequestHeadersToRemoveList(), where);
    response.add(rc.getResponseHeadersToAddList(), rc.getResponseHeadersToRemoveList(), where);
    response.add(vh.getResponseHeadersToAddList(), vh.getResponseHeadersToRemoveList(), where);
    response.add(
        route.getResponseHeadersToAddList(), route.getResponseHeadersToRemoveList(), where);
    var proxyRewrite = J.objectNode();
    if (!request.isEmpty()) {
      proxyRewrite.set("headers", request.toJson());
    }
    if (!response.isEmpty()) {
      plugins.putObject("response-rewrite").set("headers", response.toJson());
    }
    switch (route.getActionCase()) {
      case ROUTE ->
          XdsRouteActions.routeAction(
              route.getRoute(), route.getMatch(), where + ": route", r, proxyRewrite, variants);
      case REDIRECT -> plugins.set("redirect", redirect(route.getRedirect(), where + ": redirect"));
      case DIRECT_RESPONSE -> {
        var d = route.getDirectResponse();
        var abort = J.objectNode().put("http_status", d.getStatus());
        if (d.hasBody()) {
          var body = d.getBody();
          switch (body.getSpecifierCase()) {
            case INLINE_STRING -> abort.put("body", body.getInlineString());
            case INLINE_BYTES -> abort.put("body", body.getInlineBytes().toStringUtf8());
            default ->
                throw new XdsException(
                    where
                        + ": direct_response.body: "
                        + body.getSpecifierCase().name().toLowerCase(Locale.ROOT)
                        + " not supported (expected: inline_string or inline_bytes)");
          }
        }
        if (d.getStatus() < 200 || d.getStatus() > 599) {
          throw new XdsException(
              where + ": direct_response.status: " + d.getStatus() + " (expected: 200..599)");
        }
        plugins.putObject("fault-injection").set("abort", abort);
      }
      default ->
          throw new XdsException(
              where
                  + ": action "
                  + route.getActionCase().name().toLowerCase(Locale.ROOT)
                  + " not supported (expected: route, redirect or direct_response)");
    }
    if (!proxyRewrite.isEmpty()) {
      plugins.set("proxy-rewrite", proxyRewrite);
    }
    for (var e : route.getTypedPerFilterConfigMap().entrySet()) {
      var fw = where + ": typed_per_filter_config." + e.getKey();
      if (!FAULT.equals(e.getKey())) {
        throw new XdsException(fw + ": not supported (expected: " + FAULT + " only)");
      }
      if (plugins.has("fault-injection")) {
        throw new XdsException(fw + ": with direct_response (expected: one of them)");
      }
      var fault = fault(unpack(e.getValue(), HTTPFault.class, fw), fw);
      if (!fault.isEmpty()) {
        plugins.set("fault-injection", fault);
      }
    }
    if (plugins.isEmpty()) {
      r.remove("plugins");
    }
    check(Kind.ROUTES, r, where);
    return r;
  }

  static ObjectNode redirect(RedirectAction a, String where) throws XdsException {
    only(
        a,
        where,
        "https_redirect",
        "scheme_redirect",
        "host_redirect",
        "port_redirect",
        "path_redirect",
        "prefix_rewrite",
        "response_code",
        "strip_query");
    var out = J.objectNode();
    int code =
        switch (a.getResponseCode()) {
          case MOVED_PERMANENTLY -> 301;
          case FOUND -> 302;
          case SEE_OTHER -> 303;
          case TEMPORARY_REDIRECT -> 307;
          case PERMANENT_REDIRECT -> 308;
          default -> throw new XdsException(where + ": response_code: " + a.getResponseCodeValue());
        };
    out.put("ret_code", code);
    var scheme = a.getHttpsRedirect() ? "https" : a.getSchemeRedirect();
    var host = a.getHostRedirect();
    if (a.getPortRedirect() != 0) {
      host = (host.isEmpty() ? "$host" : host) + ":" + a.getPortRedirect();
    }
    if (!a.getPrefixRewrite().isEmpty()) {
      throw new XdsException(
          where + ": prefix_rewrite: not supported in redirects (expected: path_redirect)");
    }
    var path = a.getPathRedirect();
    if (a.getHttpsRedirect() && host.isEmpty() && path.isEmpty()) {
      out.put("http_to_https", true);
      return out;
    }
    var uri = new StringBuilder();
    if (!scheme.isEmpty() || !host.isEmpty()) {
      uri.append(scheme.isEmpty() ? "$scheme" : scheme)
          .append("://")
          .append(host.isEmpty() ? "$host" : host);
    }
    uri.append(path.isEmpty() ? "$uri" : path);
    out.put("uri", uri.toString());
    out.put("append_query_string", !a.getStripQuery() && !path.contains("?"));
    return out;
  }

  static ObjectNode fault(HTTPFault f, String where) throws XdsException {
    only(f, where, "delay", "abort");
    var out = J.objectNode();
    if (f.hasDelay()) {
      var d = f.getDelay();
      only(d, where + ": delay", "fixed_delay", "percentage");
      if (!d.hasFixedDelay()) {
        throw new XdsException(where + ": delay: fixed_delay missing (expected: a duration)");
      }
      out.putObject("delay")
          .put("duration", seconds(d.getFixedDelay()))
          .put("percentage", percent(d.getPercentage(), d.hasPercentage()));
    }
    if (f.hasAbort()) {
      var a = f.getAbort();
      only(a, where + ": abort", "http_status", "percentage");
      if (a.getHttpStatus() < 200 || a.getHttpStatus() > 599) {
        throw new XdsException(
            where
                + ": abort: "
                + (a.getErrorTypeCase().name().toLowerCase(Locale.ROOT))
                + " not supported (expected: http_status 200..599)");
      }
      out.putObject("abort")
          .put("http_status", a.getHttpStatus())
          .put("body", "fault filter abort")
          .put("percentage", percent(a.getPercentage(), a.hasPercentage()));
    }
    return out;
  }

  static int percent(FractionalPercent p, boolean set) {
    if (!set) {
      return 100;
    }
    double denominator =
        switch (p.getDenominator()) {
          case TEN_THOUSAND -> 10_000;
          case MILLION -> 1_000_000;
          default -> 100;
        };
    return (int) Math.min(100, Math.round(p.getNumerator() * 100.0 / denominator));
  }
}
