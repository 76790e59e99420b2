package io.archway.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/** A reusable set of plugins, named by routes in {@code plugin_config_id}. */
public record PluginConfig(
    String id,
    String name,
    String desc,
    Map<String, ObjectNode> plugins,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static PluginConfig read(Fields f, String path) {
    var pc =
        new PluginConfig(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.plugins("plugins"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    f.required("plugins", "object of plugin name to configuration");
    return pc;
  }
}
