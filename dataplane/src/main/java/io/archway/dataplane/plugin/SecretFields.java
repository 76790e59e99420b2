package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The secret fields of plugin configurations (passwords, client secrets, private and API keys,
 * tokens), by field name wherever they are nested (a logger's {@code sasl_config.password}, a
 * limiter's {@code redis_password}): one rule for both what the served schemas mark {@code
 * "writeOnly": true} (so a form built from them, the Studio's, masks them; the schema files are the
 * validator's and stay as they are) and what the Admin API masks in a GET ({@link #mask}, {@link
 * #restore}).
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
          "session_secret",
          "secretkey",
          "secret_access_key");

  /** Secret fields whose name is too common to mark everywhere: by plugin. */
  private static final java.util.Map<String, Set<String>> BY_PLUGIN =
      java.util.Map.of("csrf", Set.of("key"));

  private static final String[] SUFFIXES = {
    "_password", "_secret", "_token", "_api_key", "_private_key", "_secret_key"
  };

  private SecretFields() {}

  /** The fields of plugin {@code plugin}'s schema that hold a secret beyond what names tell. */
  public static Set<String> also(String plugin) {
    return BY_PLUGIN.getOrDefault(plugin, Set.of());
  }

  /**
   * The fields of a plugin's consumer-side configuration that are secrets besides those {@link
   * #secret} names: key-auth's {@code key} is the secret itself (jwt-auth's {@code key} only names
   * the consumer).
   */
  public static Set<String> consumerAlso(String plugin) {
    return plugin.equals("key-auth") ? Set.of("key") : Set.of();
  }

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

  /**
   * Replaces, in place, the value of every secret field of {@code conf} (what {@link #mark} marks:
   * a string or number under a name {@link #secret} gives, or one in {@code also}), at any depth,
   * with {@code mask}.
   */
  public static void mask(JsonNode conf, Set<String> also, String mask) {
    walk(conf, null, also, mask, "", null);
  }

  /**
   * Puts back, in place, the value {@code stored} has for every secret field of {@code conf} that
   * holds {@code mask} (a masked GET sent back keeps the secret); each such field {@code stored}
   * lacks (or all of them, {@code stored} being {@code null}) is left as it is and its path under
   * {@code at} ({@code at.name.inner}, {@code at.list[0]}) given to {@code missing}.
   */
  public static void restore(
      JsonNode conf,
      JsonNode stored,
      Set<String> also,
      String mask,
      String at,
      Consumer<String> missing) {
    walk(conf, stored, also, mask, at, missing);
  }

  private static void walk(
      JsonNode value,
      JsonNode stored,
      Set<String> also,
      String mask,
      String at,
      Consumer<String> missing) {
    boolean restoring = missing != null;
    if (value instanceof ObjectNode o) {
      var names = new java.util.ArrayList<String>();
      o.fieldNames().forEachRemaining(names::add);
      for (var name : names) {
        var v = o.get(name);
        var before = stored == null ? null : stored.get(name);
        var path = at.isEmpty() ? name : at + "." + name;
        if (v.isContainerNode()) {
          walk(v, before, also, mask, path, missing);
        } else if ((v.isTextual() || v.isNumber()) && (secret(name) || also.contains(name))) {
          if (!restoring) {
            o.put(name, mask);
          } else if (v.isTextual() && v.textValue().equals(mask)) {
            if (before != null && !before.isNull()) {
              o.set(name, before.deepCopy());
            } else {
              missing.accept(path);
            }
          }
        }
      }
    } else if (value != null && value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        walk(
            value.get(i),
            restoring ? counterpart(value.get(i), stored, i, also, mask) : null,
            also,
            mask,
            at + "[" + i + "]",
            missing);
      }
    }
  }

  /**
   * The element of the stored array whose secrets an element sent back may take: one equal to it
   * but for its secrets, the one at the same index first. By index alone, a list with an element
   * removed or moved would hand one element's secret to another (broker B sent A's password).
   */
  private static JsonNode counterpart(
      JsonNode element, JsonNode stored, int index, Set<String> also, String mask) {
    if (stored == null || !stored.isArray()) {
      return null;
    }
    var shape = masked(element, also, mask);
    if (index < stored.size() && masked(stored.get(index), also, mask).equals(shape)) {
      return stored.get(index);
    }
    for (var candidate : stored) {
      if (masked(candidate, also, mask).equals(shape)) {
        return candidate;
      }
    }
    return null;
  }

  private static JsonNode masked(JsonNode node, Set<String> also, String mask) {
    var copy = node.deepCopy();
    walk(copy, null, also, mask, "", null);
    return copy;
  }
}
