package io.archway.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/** A service: an upstream and plugins shared by the routes that name it in {@code service_id}. */
public record Service(
    String id,
    String name,
    String desc,
    Upstream upstream,
    String upstreamId,
    Map<String, ObjectNode> plugins,
    List<String> hosts,
    Boolean enableWebsocket,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static Service read(Fields f, String path) {
    f.unsupported("script", "generated Lua is not run; use a plugin flow");
    return new Service(
        f.id("id"),
        f.string("name", Fields.Check.length(1, 100)),
        f.string("desc", Fields.Check.length(0, 256)),
        f.child("upstream", Upstream::read),
        f.id("upstream_id"),
        f.plugins("plugins"),
        f.strings("hosts", 1, true, Addresses.HOST_NAME),
        f.bool("enable_websocket"),
        f.labels("labels"),
        f.longValue("create_time", 0),
        f.longValue("update_time", 0));
  }
}
