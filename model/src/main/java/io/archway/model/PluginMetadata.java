package io.archway.model;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Settings of one plugin shared by all its uses, under {@code /apisix/plugin_metadata/<plugin>};
 * {@code id} is the plugin's name and the rest is the plugin's own, validated by the plugin. {@code
 * labels} is Archway's addition (as on global rules), so the operator can mark the metadata it
 * owns; it is not part of {@code value} and never reaches the plugin.
 */
public record PluginMetadata(String id, ObjectNode value, Map<String, String> labels)
    implements ConfigObject {

  public PluginMetadata(String id, ObjectNode value) {
    this(id, value, null);
  }

  @JsonValue
  ObjectNode json() {
    var out = value.deepCopy();
    out.put("id", id);
    if (labels != null) {
      out.set("labels", ModelJson.mapper().valueToTree(labels));
    }
    return out;
  }

  static PluginMetadata read(Fields f, String path) {
    var id = f.requiredString("id", Fields.Check.length(1, 64));
    var labels = f.labels("labels");
    var all = f.raw("id") == null ? null : f.wholeObject();
    if (all == null) {
      return null;
    }
    all.remove("id");
    all.remove("labels");
    if (id != null && (!PluginSchemas.known(id) || PluginSchemas.refusal(id).isPresent())) {
      // Metadata of a plugin that does not exist would be kept and never read. (Known APISIX
      // plugins keep theirs: syslog's is shared with the stream loggers, and the loggers' branch
      // reads their log formats.)
      PluginSchemas.notRun(id).ifPresent(why -> f.problem("id", why));
    }
    return new PluginMetadata(id, all, labels);
  }
}
