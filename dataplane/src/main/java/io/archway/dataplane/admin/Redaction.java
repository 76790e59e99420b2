package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * Secrets never leave through a GET: consumer and credential plugin secrets (key-auth's {@code
 * key}, basic-auth's {@code password}, jwt-auth's {@code secret} and {@code private_key},
 * hmac-auth's {@code secret_key}), an SSL object's private keys and a secret manager's token are
 * shown as {@value #MASK}. A write that sends the mask back (a GET edited and PUT) keeps the value
 * stored, so a round trip never replaces a secret with the mask.
 */
final class Redaction {

  static final String MASK = "******";

  /** Per plugin, the fields of its configuration that are secrets. */
  private static final Map<String, List<String>> PLUGIN_SECRETS =
      Map.of(
          "key-auth", List.of("key"),
          "basic-auth", List.of("password"),
          "jwt-auth", List.of("secret", "private_key"),
          "hmac-auth", List.of("secret_key"),
          "ldap-auth", List.of("password"));

  private static final List<String> SSL_SECRETS = List.of("key", "keys");
  private static final List<String> MANAGER_SECRETS = List.of("token", "secret_key", "password");

  private Redaction() {}

  /** A copy of {@code value} as the object of {@code type} may be shown. */
  static ObjectNode masked(String type, ObjectNode value) {
    if (!has(type)) {
      return value;
    }
    var copy = value.deepCopy();
    walk(type, copy, null);
    return copy;
  }

  /** {@code value} with every mask replaced by what {@code stored} has there. */
  static void restore(String type, ObjectNode value, ObjectNode stored) {
    if (has(type) && stored != null) {
      walk(type, value, stored);
    }
  }

  private static boolean has(String type) {
    return type.equals("consumers")
        || type.equals(AdminPaths.CREDENTIALS)
        || type.equals("ssls")
        || type.equals("secrets");
  }

  /** Masks ({@code stored == null}) or restores the secret fields of {@code value}. */
  private static void walk(String type, ObjectNode value, ObjectNode stored) {
    switch (type) {
      case "ssls" -> fields(value, stored, SSL_SECRETS);
      case "secrets" -> fields(value, stored, MANAGER_SECRETS);
      default -> {
        var plugins = value.path("plugins");
        for (var e : plugins.properties()) {
          var secret = PLUGIN_SECRETS.get(e.getKey());
          if (secret != null && e.getValue().isObject()) {
            var before = stored == null ? null : stored.path("plugins").get(e.getKey());
            fields(
                (ObjectNode) e.getValue(),
                before instanceof ObjectNode o ? o : null,
                secret,
                stored != null);
          }
        }
      }
    }
  }

  private static void fields(ObjectNode value, ObjectNode stored, List<String> names) {
    fields(value, stored, names, stored != null);
  }

  private static void fields(
      ObjectNode value, ObjectNode stored, List<String> names, boolean restoring) {
    for (var name : names) {
      JsonNode v = value.get(name);
      if (v == null || v.isNull()) {
        continue;
      }
      if (!restoring) {
        value.put(name, MASK);
      } else if (v.isTextual()
          && v.textValue().equals(MASK)
          && stored != null
          && stored.has(name)) {
        value.set(name, stored.get(name).deepCopy());
      }
    }
  }
}
