package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.function.Function;

/**
 * APISIX's references in plugin configurations: a string field whose value is {@code $env://NAME}
 * holds the environment variable {@code NAME}; {@code $secret://manager/id/key} a value kept in a
 * secret manager (the {@code secrets} objects). {@code $env://} is resolved when the configuration
 * is compiled. Secret managers are not supported yet, so a {@code $secret://} reference is an error
 * naming it: the literal text must never be used as a key or a password.
 */
public final class ValueRefs {

  public static final String ENV = "$env://";
  public static final String SECRET = "$secret://";

  private ValueRefs() {}

  /**
   * {@code conf} with its references resolved (the same object when it has none); each one that
   * cannot be resolved is a problem under {@code path}.
   */
  public static ObjectNode resolve(
      ObjectNode conf, String path, Function<String, String> env, List<Problem> problems) {
    if (!hasRefs(conf)) {
      return conf;
    }
    var copy = conf.deepCopy();
    walk(copy, path, env, problems);
    return copy;
  }

  /** As {@link #resolve(ObjectNode, String, Function, List)} with the process's environment. */
  public static ObjectNode resolve(ObjectNode conf, String path, List<Problem> problems) {
    return resolve(conf, path, System::getenv, problems);
  }

  private static boolean hasRefs(JsonNode node) {
    if (node.isTextual()) {
      var s = node.textValue();
      return s.startsWith(ENV) || s.startsWith(SECRET);
    }
    for (var child : node) {
      if (hasRefs(child)) {
        return true;
      }
    }
    return false;
  }

  private static void walk(
      JsonNode node, String path, Function<String, String> env, List<Problem> problems) {
    if (node instanceof ObjectNode o) {
      for (var e : o.properties()) {
        var at = path + "." + e.getKey();
        if (e.getValue().isTextual()) {
          var v = value(e.getValue().textValue(), at, env, problems);
          if (v != null) {
            e.setValue(TextNode.valueOf(v));
          }
        } else {
          walk(e.getValue(), at, env, problems);
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        var at = path + "[" + i + "]";
        if (a.get(i).isTextual()) {
          var v = value(a.get(i).textValue(), at, env, problems);
          if (v != null) {
            a.set(i, TextNode.valueOf(v));
          }
        } else {
          walk(a.get(i), at, env, problems);
        }
      }
    }
  }

  /** The value a reference stands for; {@code null} when {@code s} is not one or is a problem. */
  private static String value(
      String s, String at, Function<String, String> env, List<Problem> problems) {
    if (s.startsWith(ENV)) {
      var name = s.substring(ENV.length());
      var v = name.isEmpty() ? null : env.apply(name);
      if (v == null) {
        problems.add(
            new Problem(
                at, s + ": environment variable " + name + " is not set (expected: set it)"));
      }
      return v;
    }
    if (s.startsWith(SECRET)) {
      problems.add(
          new Problem(
              at,
              s
                  + ": secret managers ($secret://) are not supported by Archway yet (expected:"
                  + " the value itself, or $env://NAME for one in the environment)"));
    }
    return null;
  }
}
