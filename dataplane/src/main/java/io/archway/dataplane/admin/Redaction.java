package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.SecretFields;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Secrets never leave through a GET: the secret fields ({@link SecretFields}, the same rule that
 * marks them {@code writeOnly} in the served schemas) of consumers' and credentials' plugins
 * (key-auth's {@code key}, basic-auth's {@code password}, jwt-auth's {@code secret} and {@code
 * private_key}, hmac-auth's {@code secret_key}, ...) and of plugin flows' nodes (a stored flow's
 * and a route's inline {@code plugin_flow}), an SSL object's private keys and a secret manager's
 * token are shown as {@value #MASK}. A write that sends the mask back (a GET edited and PUT) keeps
 * the value stored, so a round trip never replaces a secret with the mask; this holds for one
 * object's PUT or PATCH and for {@code PUT /apisix/admin/configs} (a viewer's {@code GET} of the
 * whole config sent back), and a mask with nothing stored to keep is refused.
 *
 * <p>The {@code plugins} of routes, services, global rules and plugin configs are shown as stored,
 * as APISIX 3.x shows them (it decrypts the fields it encrypts at rest before answering).
 */
final class Redaction {

  static final String MASK = "******";

  private static final List<String> SSL_SECRETS = List.of("key", "keys");
  private static final List<String> MANAGER_SECRETS = List.of("token", "secret_key", "password");

  private Redaction() {}

  /** A copy of {@code value} as the object of {@code type} may be shown. */
  static ObjectNode masked(String type, ObjectNode value) {
    if (!has(type, value)) {
      return value;
    }
    var copy = value.deepCopy();
    walk(type, copy, null, null);
    return copy;
  }

  /**
   * {@code value} with every mask in a secret field replaced by what {@code stored} (the object of
   * the same kind and id, or {@code null}) has there; the paths of the masks it could not replace
   * (the object or the field is not stored), e.g. {@code plugins.key-auth.key}: such a value is
   * refused ({@link #refusal}), never stored with the mask as its secret.
   */
  static List<String> restore(String type, ObjectNode value, ObjectNode stored) {
    var missing = new ArrayList<String>();
    if (has(type, value)) {
      walk(type, value, stored, missing::add);
    }
    return missing;
  }

  /**
   * For {@link StandaloneDoc#items(com.fasterxml.jackson.databind.JsonNode, String, List,
   * BiFunction)}: each object of a whole config restored ({@link #restore}) from the object {@code
   * stored} gives for its store key; a mask with nothing to keep is the object's problem.
   */
  static BiFunction<String, ObjectNode, String> keeping(Function<String, ObjectNode> stored) {
    return (key, value) -> {
      var type = AdminPaths.parse(key).orElseThrow().type();
      var masks = restore(type, value, stored.apply(key));
      return masks.isEmpty() ? null : refusal(masks);
    };
  }

  /** The 400 message for the masks {@link #restore} could not replace. */
  static String refusal(List<String> missing) {
    return String.join(", ", missing)
        + ": "
        + MASK
        + " but nothing stored there to keep (expected: the secret itself; the mask only keeps"
        + " the value stored for the same object and field)";
  }

  private static boolean has(String type, ObjectNode value) {
    return switch (type) {
      case "consumers", AdminPaths.CREDENTIALS, "ssls", "secrets", "plugin_flows" -> true;
      // Only a route's own flow: its plugins are shown as APISIX shows them.
      case "routes" -> value.has("plugin_flow");
      default -> false;
    };
  }

  /**
   * Masks ({@code missing == null}) or restores from {@code stored} the secret fields of {@code
   * value}.
   */
  private static void walk(
      String type, ObjectNode value, ObjectNode stored, Consumer<String> missing) {
    switch (type) {
      case "ssls" -> fields(value, stored, SSL_SECRETS, missing);
      case "secrets" -> fields(value, stored, MANAGER_SECRETS, missing);
      case "plugin_flows" -> flow(value, stored, "", missing);
      case "routes" ->
          flow(
              value.get("plugin_flow"),
              stored == null ? null : stored.get("plugin_flow"),
              "plugin_flow.",
              missing);
      default -> {
        for (var e : value.path("plugins").properties()) {
          var also = SecretFields.consumerAlso(e.getKey());
          if (missing == null) {
            SecretFields.mask(e.getValue(), also, MASK);
          } else {
            var before = stored == null ? null : stored.path("plugins").get(e.getKey());
            SecretFields.restore(
                e.getValue(), before, also, MASK, "plugins." + e.getKey(), missing);
          }
        }
      }
    }
  }

  /**
   * A flow's nodes ({@code conf: {id: {name, conf}}}): each node's configuration, restored from the
   * stored node of the same id running the same plugin.
   */
  private static void flow(JsonNode value, JsonNode stored, String at, Consumer<String> missing) {
    if (value == null) {
      return;
    }
    for (var e : value.path("conf").properties()) {
      var node = e.getValue();
      var also = SecretFields.also(node.path("name").asText()); // csrf's key
      if (missing == null) {
        SecretFields.mask(node.get("conf"), also, MASK);
      } else {
        var before = stored == null ? null : stored.path("conf").get(e.getKey());
        var same = before != null && before.path("name").equals(node.path("name"));
        SecretFields.restore(
            node.get("conf"),
            same ? before.get("conf") : null,
            also,
            MASK,
            at + "conf." + e.getKey() + ".conf",
            missing);
      }
    }
  }

  private static void fields(
      ObjectNode value, ObjectNode stored, List<String> names, Consumer<String> missing) {
    for (var name : names) {
      JsonNode v = value.get(name);
      if (v == null || v.isNull()) {
        continue;
      }
      if (missing == null) {
        value.put(name, MASK);
      } else if (v.isTextual() && v.textValue().equals(MASK)) {
        if (stored != null && stored.has(name)) {
          value.set(name, stored.get(name).deepCopy());
        } else {
          missing.accept(name);
        }
      }
    }
  }
}
