package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.function.Function;

/**
 * APISIX's references in plugin configurations: a string field whose value is {@code $env://NAME}
 * holds the environment variable {@code NAME}; {@code $secret://<manager>/<id>/<path>/<key>} the
 * field {@code key} of the secret at {@code path} in the secret manager {@code
 * secrets/<manager>/<id>} ({@link Secret}). Both are resolved when the configuration is compiled;
 * one that cannot be is an error naming it (the literal text must never be used as a key or a
 * password), and no message ever holds a resolved value.
 */
public final class ValueRefs {

  public static final String ENV = "$env://";
  public static final String SECRET = "$secret://";

  private ValueRefs() {}

  /** Where {@code $secret://} references are read from. */
  @FunctionalInterface
  public interface Secrets {
    /**
     * The value of {@code key} in the secret at {@code path} of the manager {@code
     * secrets/<manager>/<id>}.
     *
     * @throws Unresolved saying why there is none (never with a secret in the message)
     */
    String value(String manager, String id, String path, String key) throws Unresolved;
  }

  /** Why a reference has no value; the message names no secret. */
  public static final class Unresolved extends Exception {
    public Unresolved(String message) {
      super(message, null, false, false);
    }
  }

  /** A parsed {@code $secret://<manager>/<id>/<path>/<key>}. */
  public record SecretRef(String manager, String id, String path, String key) {

    /** The reference in {@code s}, or empty when it does not have the four parts. */
    public static java.util.Optional<SecretRef> parse(String s) {
      if (!s.startsWith(SECRET)) {
        return java.util.Optional.empty();
      }
      var rest = s.substring(SECRET.length());
      int a = rest.indexOf('/');
      int b = a < 0 ? -1 : rest.indexOf('/', a + 1);
      int c = rest.lastIndexOf('/');
      if (a <= 0 || b <= a + 1 || c <= b + 1 || c == rest.length() - 1) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(
          new SecretRef(
              rest.substring(0, a),
              rest.substring(a + 1, b),
              rest.substring(b + 1, c),
              rest.substring(c + 1)));
    }
  }

  /**
   * {@code conf} with its references resolved (the same object when it has none); each one that
   * cannot be resolved is a problem under {@code path}. With {@code secrets} {@code null}, {@code
   * $secret://} references are only checked for their shape and left as they are (the Admin API
   * checks what it stores; the dataplane reads the secrets when it compiles).
   */
  public static ObjectNode resolve(
      ObjectNode conf,
      String path,
      Function<String, String> env,
      Secrets secrets,
      List<Problem> problems) {
    if (!hasRefs(conf)) {
      return conf;
    }
    var copy = conf.deepCopy();
    walk(copy, path, env, secrets, problems);
    return copy;
  }

  /** As {@link #resolve(ObjectNode, String, Function, Secrets, List)} with no environment. */
  public static ObjectNode resolve(
      ObjectNode conf, String path, Function<String, String> env, List<Problem> problems) {
    return resolve(conf, path, env, null, problems);
  }

  /**
   * As {@link #resolve(ObjectNode, String, Function, Secrets, List)} with the process's
   * environment.
   */
  public static ObjectNode resolve(
      ObjectNode conf, String path, Secrets secrets, List<Problem> problems) {
    return resolve(conf, path, System::getenv, secrets, problems);
  }

  /**
   * As {@link #resolve(ObjectNode, String, Function, Secrets, List)} with the process's
   * environment, {@code $secret://} references checked for their shape only.
   */
  public static ObjectNode resolve(ObjectNode conf, String path, List<Problem> problems) {
    return resolve(conf, path, System::getenv, null, problems);
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
      JsonNode node,
      String path,
      Function<String, String> env,
      Secrets secrets,
      List<Problem> problems) {
    if (node instanceof ObjectNode o) {
      for (var e : o.properties()) {
        var at = path + "." + e.getKey();
        if (e.getValue().isTextual()) {
          var v = value(e.getValue().textValue(), at, env, secrets, problems);
          if (v != null) {
            e.setValue(TextNode.valueOf(v));
          }
        } else {
          walk(e.getValue(), at, env, secrets, problems);
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        var at = path + "[" + i + "]";
        if (a.get(i).isTextual()) {
          var v = value(a.get(i).textValue(), at, env, secrets, problems);
          if (v != null) {
            a.set(i, TextNode.valueOf(v));
          }
        } else {
          walk(a.get(i), at, env, secrets, problems);
        }
      }
    }
  }

  /** The value a reference stands for; {@code null} when {@code s} is not one or is a problem. */
  private static String value(
      String s, String at, Function<String, String> env, Secrets secrets, List<Problem> problems) {
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
      var ref = SecretRef.parse(s);
      if (ref.isEmpty()) {
        problems.add(
            new Problem(
                at,
                s
                    + ": not a secret reference (expected:"
                    + " $secret://<manager>/<id>/<path>/<key>, e.g. $secret://vault/1/jack/auth-key)"));
        return null;
      }
      if (secrets == null) {
        return null;
      }
      var r = ref.get();
      try {
        return secrets.value(r.manager(), r.id(), r.path(), r.key());
      } catch (Unresolved e) {
        problems.add(new Problem(at, s + ": " + e.getMessage()));
      }
    }
    return null;
  }
}
