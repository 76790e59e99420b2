package io.archway.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Plugins run on every request. {@code labels} is Archway's addition (APISIX has none here), so the
 * operator can mark the rules it owns.
 */
public record GlobalRule(
    String id,
    Map<String, ObjectNode> plugins,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static GlobalRule read(Fields f, String path) {
    var rule =
        new GlobalRule(
            f.id("id"),
            f.plugins("plugins"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    f.required("plugins", "object of plugin name to configuration");
    return rule;
  }
}
