package io.archway.model;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * A TCP route, matched by the listener's port, the client's address or the server address. With
 * {@code protocol} the stream is decoded (xRPC, e.g. {@code redis}) and each request is visible to
 * the protocol's {@code conf} (faults) and {@code logger}s. Its {@code plugins} are stream plugins
 * ({@link StreamPluginSchemas}), run when a connection is accepted and when it closes.
 */
public record StreamRoute(
    String id,
    String name,
    String desc,
    String remoteAddr,
    String serverAddr,
    Integer serverPort,
    String sni,
    Upstream upstream,
    String upstreamId,
    String serviceId,
    Map<String, ObjectNode> plugins,
    Protocol protocol,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static StreamRoute read(Fields f, String path) {
    var route =
        new StreamRoute(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.string("remote_addr", Addresses.IP_OR_CIDR),
            f.string("server_addr", Addresses.IP_OR_CIDR),
            f.integer("server_port", 1, 65535),
            f.string("sni", Addresses.HOST_NAME),
            f.child("upstream", Upstream::read),
            f.id("upstream_id"),
            f.id("service_id"),
            f.plugins("plugins"),
            f.child("protocol", Protocol::read),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    if (route.plugins != null) {
      // Stream plugins are checked against their stream schemas (StreamPluginSchemas), never the
      // HTTP ones of the same name; a plugin that does not run on streams is refused, naming it.
      route.plugins.forEach(
          (name, conf) ->
              f.problems(StreamPluginSchemas.check(name, conf, f.pathOf("plugins") + "." + name)));
    }
    if (!f.has("upstream") && !f.has("upstream_id") && !f.has("service_id") && !f.has("plugins")) {
      f.problem(
          "nothing to proxy to (expected: at least one of upstream, upstream_id, service_id,"
              + " plugins)");
    }
    return route;
  }

  /**
   * Why plugin {@code name} on a stream route is refused, or {@code null} when it runs there
   * ({@link StreamPluginSchemas#names()}).
   */
  public static String streamPlugin(String name) {
    return StreamPluginSchemas.runs(name) ? null : StreamPluginSchemas.notRun(name);
  }

  /** {@code protocol{name, superior_id, conf, logger}}: the xRPC protocol and its settings. */
  public record Protocol(String name, String superiorId, ObjectNode conf, List<Logger> logger) {

    static Protocol read(Fields f, String path) {
      return new Protocol(
          f.requiredString("name", Fields.Check.length(1, 64)),
          f.id("superior_id"),
          f.object("conf"),
          f.children("logger", Logger::read));
    }
  }

  /**
   * A logger run for each request whose variables pass {@code filter} (an APISIX expression such as
   * {@code [["rpc_time", ">=", 1]]}); {@code name} is the logger plugin, {@code conf} its settings.
   */
  public record Logger(String name, ArrayNode filter, ObjectNode conf) {

    static Logger read(Fields f, String path) {
      var logger =
          new Logger(
              f.requiredString("name", Fields.Check.length(1, 64)),
              f.array("filter"),
              f.object("conf"));
      f.required("conf", "object, the logger's settings");
      return logger;
    }
  }
}
