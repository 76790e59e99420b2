package io.archway.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.regex.Pattern;

/** A consumer, stored under {@code /apisix/consumers/<username>}; its auth plugins identify it. */
public record Consumer(
    String username,
    String desc,
    Map<String, ObjectNode> plugins,
    String groupId,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  static final Pattern USERNAME = Pattern.compile("^[a-zA-Z0-9_\\-]{1,100}$");

  @Override
  @JsonIgnore
  public String id() {
    return username;
  }

  static Consumer read(Fields f, String path) {
    return new Consumer(
        f.requiredString("username", Fields.Check.pattern(USERNAME)),
        f.string("desc", Fields.Check.length(0, 256)),
        f.plugins("plugins"),
        f.id("group_id"),
        f.labels("labels"),
        f.longValue("create_time", 0),
        f.longValue("update_time", 0));
  }
}
