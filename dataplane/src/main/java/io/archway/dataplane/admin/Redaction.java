package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.SecretFields;
import java.util.List;
import java.util.Set;

/**
 * Secrets never leave through a GET: the secret fields ({@link SecretFields}, the same rule that
 * marks them {@code writeOnly} in the served schemas) of consumers' and credentials' plugins
 * (key-auth's {@code key}, basic-auth's {@code password}, jwt-auth's {@code secret} and {@code
 * private_key}, hmac-auth's {@code secret_key}, ...) and of plugin flows' nodes (a stored flow's
 * and a route's inline {@code plugin_flow}), an SSL object's private keys and a secret manager's
 * token are shown as {@value #MASK}. A write that sends the mask back (a GET edited and PUT) keeps
 * the value stored, so a round trip never replaces a secret with the mask.
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
    walk(type, copy, null);
    return copy;
  }

  /** {@code value} with every mask replaced by what {@code stored} has there. */
  static void restore(String type, ObjectNode value, ObjectNode stored) {
    if (has(type, value) && stored != null) {
      walk(type, value, stored);
    }
  }

  private static boolean has(String type, ObjectNode value) {
    return switch (type) {
      case "consumers", AdminPaths.CREDENTIALS, "ssls", "secrets", "plugin_flows" -> true;
      // Only a route's own flow: its plugins are shown as APISIX shows them.
      case "routes" -> value.has("plugin_flow");
      default -> false;
    };
  }

  /** Masks ({@code stored == null}) or restores the secret fields of {@code value}. */
  private static void walk(String type, ObjectNode value, ObjectNode stored) {
    switch (type) {
      case "ssls" -> fields(value, stored, SSL_SECRETS);
      case "secrets" -> fields(value, stored, MANAGER_SECRETS);
      case "plugin_flows" -> flow(value, stored);
      case "routes" ->
          flow(value.get("plugin_flow"), stored == null ? null : stored.get("plugin_flow"));
      default -> {
        for (var e : value.path("plugins").properties()) {
          var also = SecretFields.consumerAlso(e.getKey());
          if (stored == null) {
            SecretFields.mask(e.getValue(), also, MASK);
          } else {
            SecretFields.restore(e.getValue(), stored.path("plugins").get(e.getKey()), also, MASK);
          }
        }
      }
    }
  }

  /**
   * A flow's nodes ({@code conf: {id: {name, conf}}}): each node's configuration, restored from the
   * stored node of the same id running the same plugin.
   */
  private static void flow(JsonNode value, JsonNode stored) {
    if (value == null) {
      return;
    }
    for (var e : value.path("conf").properties()) {
      var node = e.getValue();
      if (stored == null) {
        SecretFields.mask(node.get("conf"), Set.of(), MASK);
      } else {
        var before = stored.path("conf").get(e.getKey());
        if (before != null && before.path("name").equals(node.path("name"))) {
          SecretFields.restore(node.get("conf"), before.get("conf"), Set.of(), MASK);
        }
      }
    }
  }

  private static void fields(ObjectNode value, ObjectNode stored, List<String> names) {
    for (var name : names) {
      JsonNode v = value.get(name);
      if (v == null || v.isNull()) {
        continue;
      }
      if (stored == null) {
        value.put(name, MASK);
      } else if (v.isTextual() && v.textValue().equals(MASK) && stored.has(name)) {
        value.set(name, stored.get(name).deepCopy());
      }
    }
  }
}
