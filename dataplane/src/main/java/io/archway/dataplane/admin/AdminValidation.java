package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.Protos;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import io.archway.model.ValidationException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Checks an object before anything is written, with the code the dataplane compiles with: the
 * model's reader ({@link ModelJson#read}: fields, types, ranges, references' shapes), then every
 * plugin configuration in it the way {@link PluginRegistry#compileOne} checks one (the plugin runs
 * here, its JSON Schema, the binding to its record). What only {@code Plugin.compile} finds (a
 * regex that does not compile, say) is found when the config is compiled, after the write, and
 * counted in {@code archway_config_objects_rejected}.
 */
public final class AdminValidation {

  private final PluginRegistry registry;

  public AdminValidation(PluginRegistry registry) {
    this.registry = registry;
  }

  /**
   * The problems of {@code value} as the object stored at {@code key} ({@code routes/1}, {@code
   * consumers/jack/credentials/a}), each naming its field: what an Admin API write of it would be
   * refused for. {@code bin/archway --check} checks a standalone file's objects with it.
   */
  public List<Problem> problems(String key, ObjectNode value) {
    var target = AdminPaths.parse(key);
    if (target.isEmpty()) {
      return List.of(new Problem("", "not a resource key: " + key));
    }
    return problems(target.get(), value);
  }

  /**
   * The problems of {@code value} as the object at {@code target}, as one message naming each field
   * and what was expected; {@code null} when it is valid.
   */
  String check(AdminPaths.Target target, ObjectNode value) {
    var problems = problems(target, value);
    if (problems.isEmpty()) {
      return null;
    }
    return "invalid configuration: "
        + problems.stream().map(Problem::toString).collect(Collectors.joining("; "));
  }

  private List<Problem> problems(AdminPaths.Target target, ObjectNode value) {
    var problems = new ArrayList<Problem>();
    if (target.kind() != null) {
      try {
        ModelJson.read(target.kind(), value, target.id(), target.key());
      } catch (ValidationException e) {
        problems.addAll(e.problems());
      }
      if (problems.isEmpty()) {
        plugins(value.get("plugins"), "plugins", target.kind() == Kind.CONSUMERS, problems);
        if (target.kind() == Kind.PROTOS) {
          proto(target.id(), value, problems);
        } else if (target.kind() == Kind.PLUGIN_FLOWS) {
          flow(value, "", problems);
        } else if (value.has("plugin_flow")) {
          flow(value.get("plugin_flow"), "plugin_flow.", problems);
        }
      }
    } else if (target.type().equals(AdminPaths.CREDENTIALS)) {
      credential(target, value, problems);
    } else if (target.type().equals("secrets") && target.id() != null) {
      // The model's reader: the dataplane reads secret managers from what is stored.
      try {
        ModelJson.read(Kind.SECRETS, value, target.key().substring(8), target.key());
      } catch (ValidationException e) {
        problems.addAll(e.problems());
      }
    } else {
      extra(target.type(), value, problems);
    }
    return problems;
  }

  /**
   * A credential: the model's reader (its key gives the whole id, {@code
   * <username>/credentials/<id>}), then its plugins, which must all be authentication plugins (a
   * plugin with {@link Plugin#credentialField}), each checked against its consumer schema.
   */
  private void credential(AdminPaths.Target target, ObjectNode value, List<Problem> problems) {
    var id = target.key().substring("consumers/".length());
    try {
      ModelJson.read(Kind.CREDENTIALS, value, id, target.key());
    } catch (ValidationException e) {
      problems.addAll(e.problems());
      return;
    }
    for (var e : value.get("plugins").properties()) {
      var at = "plugins." + e.getKey();
      if (registry.credentialField(e.getKey()) == null) {
        problems.add(
            new Problem(
                at,
                (registry.get(e.getKey()) == null
                        ? "plugin \"" + e.getKey() + "\" is not run by this dataplane"
                        : "\"" + e.getKey() + "\" is not an authentication plugin")
                    + " (expected: only authentication plugins in a credential: "
                    + String.join(", ", authPlugins())
                    + ")"));
      } else {
        problems.addAll(PluginSchemas.checkConsumer(e.getKey(), e.getValue(), at));
      }
    }
  }

  private List<String> authPlugins() {
    return registry.names().stream()
        .filter(n -> registry.credentialField(n) != null)
        .sorted()
        .toList();
  }

  /**
   * A credential value of {@code value} (a key-auth key, a basic-auth username, a jwt-auth key),
   * the consumer or credential at {@code key}, that another consumer or credential in {@code
   * stored} already holds, as a 400's message; {@code null} when none. APISIX would store it and
   * let one of them win; the compiler lets neither win (a new object must not take over a key), so
   * the write is refused here, where the client can be told. Two writes racing past this check
   * still meet the compiler's rule.
   *
   * @param stored what the store lists under {@code consumers/} (consumers and credentials)
   */
  String duplicate(String key, ObjectNode value, List<AdminStore.Stored> stored) {
    var mine = credentialValues(value);
    if (mine.isEmpty()) {
      return null;
    }
    for (var s : stored) {
      if (s.key().equals(key) || Keys.parseItem(s.key()).isEmpty()) {
        continue;
      }
      var theirs = credentialValues(s.value());
      for (var e : mine.entrySet()) {
        if (e.getValue().equals(theirs.get(e.getKey()))) {
          var field = registry.credentialField(e.getKey());
          return "invalid configuration: plugins."
              + e.getKey()
              + "."
              + field
              + ": the same "
              + field
              + " as "
              + s.key()
              + " (expected: unique among consumers and credentials)";
        }
      }
    }
    return null;
  }

  /** Auth plugin name → the value consumers are found by, for the auth plugins in {@code value}. */
  private java.util.Map<String, String> credentialValues(JsonNode value) {
    var out = new java.util.TreeMap<String, String>();
    for (var e : value.path("plugins").properties()) {
      var field = registry.credentialField(e.getKey());
      if (field != null && e.getValue().path(field).isTextual()) {
        out.put(e.getKey(), e.getValue().get(field).textValue());
      }
    }
    return out;
  }

  /** A proto must compile, as APISIX parses it when it is written. */
  private static void proto(String id, ObjectNode value, List<Problem> problems) {
    try {
      Protos.compile(id == null ? "proto" : id, value.path("content").asText());
    } catch (IllegalArgumentException e) {
      var m = e.getMessage();
      problems.add(new Problem("content", m.startsWith("content: ") ? m.substring(9) : m));
    }
  }

  /** The kinds the model lacks: their shape, minimally, as APISIX's schemas require it. */
  private void extra(String type, ObjectNode value, List<Problem> problems) {
    switch (type) {
      case "secrets" -> {
        if (!value.path("uri").isTextual() && !value.path("region").isTextual()) {
          problems.add(
              new Problem("uri", "missing (expected: the secret manager's address, string)"));
        }
      }
      default -> problems.add(new Problem("", "unknown resource " + type));
    }
    for (var field : List.of("name", "desc")) {
      if (value.has(field) && !value.get(field).isTextual()) {
        problems.add(new Problem(field, value.get(field) + " (expected: string)"));
      }
    }
  }

  private void flow(JsonNode flow, String at, List<Problem> problems) {
    var conf = flow.path("conf");
    for (var e : conf.properties()) {
      var node = e.getValue();
      if (node.path("name").isTextual() && node.path("conf").isObject()) {
        one(
            node.get("name").textValue(),
            (ObjectNode) node.get("conf"),
            at + "conf." + e.getKey() + ".conf",
            problems);
      }
    }
  }

  private void plugins(JsonNode plugins, String at, List<Problem> problems) {
    plugins(plugins, at, false, problems);
  }

  /**
   * A consumer's auth plugins hold its credential, checked against the plugin's consumer schema
   * ({@link PluginSchemas#checkConsumer}), as the consumer compiler checks it, not against the
   * schema of the plugin's route-side configuration.
   */
  private void plugins(JsonNode plugins, String at, boolean consumer, List<Problem> problems) {
    if (plugins == null || !plugins.isObject()) {
      return;
    }
    for (var e : plugins.properties()) {
      var field = consumer ? registry.credentialField(e.getKey()) : null;
      if (field != null) {
        problems.addAll(
            PluginSchemas.checkConsumer(e.getKey(), e.getValue(), at + "." + e.getKey()));
      } else if (e.getValue().isObject() || e.getValue().isNull()) {
        // A null configuration is the plugin's defaults, as the model reads it.
        var conf =
            e.getValue().isNull()
                ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
                : (ObjectNode) e.getValue();
        one(e.getKey(), conf, at + "." + e.getKey(), problems);
      } else {
        problems.add(new Problem(at + "." + e.getKey(), e.getValue() + " (expected: object)"));
      }
    }
  }

  private void one(String name, ObjectNode conf, String at, List<Problem> problems) {
    var plugin = registry.get(name);
    if (plugin == null) {
      problems.add(
          new Problem(
              at,
              PluginSchemas.notRun(name)
                  .orElse(
                      "plugin \""
                          + name
                          + "\" has a schema but no class in this dataplane (a build error)")));
      return;
    }
    var refs = new ArrayList<Problem>();
    conf = io.archway.model.ValueRefs.resolve(conf, at, refs);
    if (!refs.isEmpty()) {
      problems.addAll(refs);
      return;
    }
    var found = PluginSchemas.check(name, conf, at);
    if (!found.isEmpty()) {
      problems.addAll(found);
      return;
    }
    try {
      bind(plugin, conf);
    } catch (IllegalArgumentException ex) {
      problems.add(new Problem(at, ex.getMessage()));
    }
  }

  private static <C extends Record> void bind(Plugin<C> plugin, JsonNode conf) {
    PluginRegistry.bind(plugin, conf);
  }
}
