package io.archway.operator.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.archway.crds.Plugin;
import io.archway.model.PluginSchemas;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * A resource's plugin list turned into APISIX's {@code plugins} object: disabled plugins left out,
 * Secret values merged into their configs, every config checked against its plugin's schema.
 */
final class PluginsBuilder {

  private PluginsBuilder() {}

  /**
   * Adds {@code plugins} to {@code out}; errors name {@code field[i]}.
   *
   * @param namespace where {@code secretRef}s are looked up
   */
  static void add(
      List<Plugin> plugins,
      String field,
      String namespace,
      Refs refs,
      ObjectNode out,
      Translation t) {
    if (plugins == null) {
      return;
    }
    for (int i = 0; i < plugins.size(); i++) {
      var p = plugins.get(i);
      var at = field + "[" + i + "]";
      if (p == null || p.name == null || p.name.isEmpty()) {
        t.error(at + ".name", "missing (expected: a plugin name)");
        continue;
      }
      if (Boolean.FALSE.equals(p.enable)) {
        continue;
      }
      if (out.has(p.name)) {
        t.error(at + ".name", "\"" + p.name + "\" listed twice (expected: each plugin once)");
        continue;
      }
      var conf = config(p.name, p.config, p.secretRef, at, namespace, refs, t);
      if (conf != null) {
        out.set(p.name, conf);
      }
    }
  }

  /**
   * One plugin's config with its Secret merged in and checked; {@code null} (with errors recorded)
   * when it is not valid.
   */
  static ObjectNode config(
      String name,
      JsonNode config,
      String secretRef,
      String at,
      String namespace,
      Refs refs,
      Translation t) {
    return config(name, config, "config", secretRef, at, namespace, refs, t);
  }

  /**
   * As {@link #config(String, JsonNode, String, String, String, Refs, Translation)}, the settings
   * being the field {@code configField} of {@code at} ({@code conf} in the Dashboard's DAG JSON).
   */
  static ObjectNode config(
      String name,
      JsonNode config,
      String configField,
      String secretRef,
      String at,
      String namespace,
      Refs refs,
      Translation t) {
    if (config != null && !config.isNull() && !config.isObject()) {
      t.error(
          at + "." + configField, "not an object (expected: the plugin's configuration object)");
      return null;
    }
    var conf =
        config == null || config.isNull()
            ? JsonNodeFactory.instance.objectNode()
            : ((ObjectNode) config).deepCopy();
    var fromSecret = new java.util.HashSet<String>();
    if (secretRef != null && !secretRef.isEmpty()) {
      var secret = refs.secret(namespace, secretRef);
      if (secret.isEmpty()) {
        t.error(at + ".secretRef", "Secret " + namespace + "/" + secretRef + " not found");
        return null;
      }
      var s = secret.get();
      if (s.getData() != null) {
        s.getData()
            .forEach(
                (k, v) ->
                    putPath(
                        conf,
                        k,
                        new String(Base64.getMimeDecoder().decode(v), StandardCharsets.UTF_8)));
        fromSecret.addAll(s.getData().keySet());
      }
      if (s.getStringData() != null) {
        s.getStringData().forEach((k, v) -> putPath(conf, k, v));
        fromSecret.addAll(s.getStringData().keySet());
      }
    }
    var problems = PluginSchemas.check(name, conf, "");
    if (!problems.isEmpty()) {
      for (var p : problems) {
        if (!PluginSchemas.known(name)) {
          t.error(at + ".name", p.message());
        } else if (fromSecret.stream()
            .anyMatch(
                k ->
                    p.path().equals(k)
                        || p.path().startsWith(k + ".")
                        || p.path().startsWith(k + "["))) {
          // Never show a Secret's value in a status or an event.
          t.error(
              at + ".secretRef",
              "Secret "
                  + namespace
                  + "/"
                  + secretRef
                  + ": key "
                  + p.path()
                  + " does not fit the plugin's configuration (value not shown)");
        } else {
          t.error(at + "." + configField + (p.path().isEmpty() ? "" : "." + p.path()), p.message());
        }
      }
      return null;
    }
    return conf;
  }

  /** {@code a.b.c} sets {@code conf.a.b.c}, as the APISIX Ingress Controller merges Secrets. */
  private static void putPath(ObjectNode conf, String path, String value) {
    var parts = path.split("\\.");
    var node = conf;
    for (int i = 0; i < parts.length - 1; i++) {
      var next = node.get(parts[i]);
      if (!(next instanceof ObjectNode)) {
        next = node.putObject(parts[i]);
      }
      node = (ObjectNode) next;
    }
    node.set(parts[parts.length - 1], TextNode.valueOf(value));
  }
}
