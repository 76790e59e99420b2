package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * Marks the secret fields of a plugin's JSON Schema (passwords, client secrets, private and API
 * keys, tokens) with {@code "writeOnly": true}, so a form built from it (the Studio's) masks them.
 * Done on the schema as served, by field name, wherever it is nested (a logger's {@code
 * sasl_config.password}, a limiter's {@code redis_password}); the schema files are the validator's
 * and stay as they are.
 */
public final class SecretFields {

  private static final Set<String> NAMES =
      Set.of(
          "password",
          "secret",
          "token",
          "private_key",
          "client_secret",
          "secret_key",
          "api_key",
          "apikey",
          "access_token",
          "auth_header",
          "authorization",
          "session_secret");

  private static final String[] SUFFIXES = {
    "_password", "_secret", "_token", "_api_key", "_private_key", "_secret_key"
  };

  private SecretFields() {}

  /** Whether a field called {@code name} holds a secret. */
  public static boolean secret(String name) {
    if (NAMES.contains(name)) {
      return true;
    }
    for (var s : SUFFIXES) {
      if (name.endsWith(s)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Marks {@code schema} in place: every property that {@link #secret} names, and the ones in
   * {@code also}; returns it.
   */
  public static JsonNode mark(JsonNode schema, Set<String> also) {
    if (schema instanceof ObjectNode o) {
      var props = o.get("properties");
      if (props instanceof ObjectNode p) {
        p.properties()
            .forEach(
                e -> {
                  if ((secret(e.getKey()) || also.contains(e.getKey()))
                      && e.getValue() instanceof ObjectNode field
                      && !"object".equals(field.path("type").asText())
                      && !"array".equals(field.path("type").asText())
                      && !"boolean".equals(field.path("type").asText())) {
                    field.put("writeOnly", true);
                  }
                });
      }
      o.forEach(child -> mark(child, also));
    } else if (schema != null && schema.isArray()) {
      schema.forEach(child -> mark(child, also));
    }
    return schema;
  }
}
