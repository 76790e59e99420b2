package io.archway.model;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A route as APISIX 3.x stores it under {@code /apisix/routes/<id>}. Fields hold what was written
 * ({@code null} when absent). {@code plugin_flow_id} and {@code plugin_flow} are Archway's
 * additions: the route runs that {@link PluginFlow} (stored, or inline in the Dashboard's DAG
 * shape) after its plugins' request phases. {@code raw_path} is another: {@code true} has the
 * route's plugins see, and its upstream receive, the request path as the client sent it instead of
 * the normalized one (routing always uses the normalized path; see docs/security.md, "Paths").
 */
public record Route(
    String id,
    String name,
    String desc,
    String uri,
    List<String> uris,
    String host,
    List<String> hosts,
    String remoteAddr,
    List<String> remoteAddrs,
    List<String> methods,
    ArrayNode vars,
    Integer priority,
    Integer status,
    Boolean enableWebsocket,
    Timeout timeout,
    Map<String, ObjectNode> plugins,
    String pluginConfigId,
    String pluginFlowId,
    PluginFlow pluginFlow,
    Boolean rawPath,
    Upstream upstream,
    String upstreamId,
    String serviceId,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  public static final List<String> METHODS =
      List.of(
          "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE");

  public int priorityOrDefault() {
    return priority == null ? 0 : priority;
  }

  /** {@code status: 0} disables a route; absent means enabled. */
  public boolean enabled() {
    return status == null || status == 1;
  }

  /** The paths matched: {@code uris}, or {@code uri} alone. */
  public List<String> paths() {
    return uri != null ? List.of(uri) : uris;
  }

  static final Fields.Check URI = Fields.Check.startsWith("/");
  private static final Fields.Check METHOD = Fields.Check.oneOf(METHODS.toArray(String[]::new));

  static Route read(Fields f, String path) {
    f.unsupported("script", "generated Lua is not run; use plugin_flow_id or plugin_flow");
    f.unsupported("filter_func", "Lua functions are not run; use vars");
    var route =
        new Route(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.string("uri", URI, Fields.Check.length(1, 4096)),
            f.strings("uris", 1, true, URI, Fields.Check.length(1, 4096)),
            f.string("host", Addresses.HOST_NAME),
            f.strings("hosts", 1, true, Addresses.HOST_NAME),
            f.string("remote_addr", Addresses.IP_OR_CIDR),
            f.strings("remote_addrs", 1, true, Addresses.IP_OR_CIDR),
            f.strings("methods", 1, true, METHOD),
            f.array("vars"),
            f.integer("priority", Integer.MIN_VALUE, Integer.MAX_VALUE),
            f.integer("status", 0, 1),
            f.bool("enable_websocket"),
            f.child("timeout", Timeout::read),
            f.plugins("plugins"),
            f.id("plugin_config_id"),
            f.id("plugin_flow_id"),
            f.child("plugin_flow", PluginFlow::read),
            f.bool("raw_path"),
            f.child("upstream", Upstream::read),
            f.id("upstream_id"),
            f.id("service_id"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    if (route.vars != null) {
      var problems = new ArrayList<Problem>();
      Vars.parse(route.vars, f.pathOf("vars"), problems);
      f.problems(problems);
    }
    f.exactlyOne("uri", "uris");
    f.atMostOne("host", "hosts");
    f.atMostOne("remote_addr", "remote_addrs");
    f.atMostOne("plugin_flow_id", "plugin_flow");
    if (!f.has("plugins")
        && !f.has("upstream")
        && !f.has("upstream_id")
        && !f.has("service_id")
        && !f.has("plugin_flow_id")
        && !f.has("plugin_flow")) {
      f.problem(
          "nothing to do (expected: at least one of plugins, upstream, upstream_id, service_id,"
              + " plugin_flow_id, plugin_flow)");
    }
    return route;
  }
}
