package io.archway.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One credential of a consumer (APISIX 3.x), stored under {@code
 * /apisix/consumers/<username>/credentials/<id>}: the configuration of its authentication plugins,
 * which identify the consumer as its own auth plugins do. A consumer may have several.
 *
 * @param id {@code <username>/credentials/<id>}, the part of the key after {@code consumers/} (the
 *     Admin API's value holds the last part only; the key gives the rest)
 */
public record Credential(
    String id,
    String desc,
    Map<String, ObjectNode> plugins,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  /** {@code <username>/credentials/<id>}: a consumer's username and an object id. */
  static final Pattern ID =
      Pattern.compile("^([a-zA-Z0-9_\\-]{1,100})/credentials/([a-zA-Z0-9-_.]{1,64})$");

  /** The consumer it belongs to. */
  @JsonIgnore
  public String username() {
    return id.substring(0, id.indexOf('/'));
  }

  /** Its own id, the last part of {@link #id()}. */
  @JsonIgnore
  public String credentialId() {
    return id.substring(id.lastIndexOf('/') + 1);
  }

  /** Whether {@code id} is a credential's whole id, {@code <username>/credentials/<id>}. */
  public static boolean isId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  static Credential read(Fields f, String path) {
    var c =
        new Credential(
            f.requiredString("id", Fields.Check.pattern(ID)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.plugins("plugins"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    f.required("plugins", "object of authentication plugin name to configuration");
    return c;
  }
}
