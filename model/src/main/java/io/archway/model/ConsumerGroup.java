package io.archway.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Plugins shared by the consumers that name the group in {@code group_id} (APISIX 3.x {@code
 * /apisix/consumer_groups/<id>}); a consumer's own configuration of a plugin wins over the group's.
 */
public record ConsumerGroup(
    String id,
    String name,
    String desc,
    Map<String, ObjectNode> plugins,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static ConsumerGroup read(Fields f, String path) {
    var g =
        new ConsumerGroup(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.plugins("plugins"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    f.required("plugins", "object of plugin name to configuration");
    return g;
  }
}
