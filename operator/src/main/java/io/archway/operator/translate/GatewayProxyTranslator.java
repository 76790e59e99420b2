package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.v1alpha1.GatewayProxy;
import io.archway.crds.apisix.v1alpha1.GatewayProxySpec;
import io.archway.model.Kind;
import io.archway.model.PluginSchemas;
import java.util.Map;

/**
 * A GatewayProxy (APISIX Ingress Controller 2.x): how that controller reaches its data plane, with
 * the plugins every request runs and the plugins' shared metadata. Archway's operator writes etcd,
 * which its dataplane watches, so what the GatewayProxy says about reaching a data plane ({@code
 * provider}, {@code publishService}, {@code statusAddress}) does not apply and is said so in a
 * warning; its enabled {@code plugins} become {@code global_rules/gp_<namespace>_<name>} and each
 * {@code pluginMetadata} entry {@code plugin_metadata/<plugin>}.
 *
 * <p>The operator writes what a GatewayProxy translates to while an IngressClass of its controller
 * names it in {@code spec.parameters}, as the APISIX Ingress Controller does ({@link #unreferenced}
 * otherwise); {@code translate|validate} take every GatewayProxy in the files.
 */
public final class GatewayProxyTranslator {

  private GatewayProxyTranslator() {}

  public static String globalRuleId(String namespace, String name) {
    return Ids.of("gp", namespace, name);
  }

  public static Translation translate(GatewayProxy gp, Refs refs) {
    var t = new Translation();
    var ns = gp.getMetadata().getNamespace();
    var spec = gp.getSpec() == null ? new GatewayProxySpec() : gp.getSpec();
    provider(spec, t);
    var plugins = JsonNodeFactory.instance.objectNode();
    if (spec.plugins != null) {
      for (int i = 0; i < spec.plugins.size(); i++) {
        var p = spec.plugins.get(i);
        var at = "spec.plugins[" + i + "]";
        if (p == null || p.name == null || p.name.isEmpty()) {
          t.error(at + ".name", "missing (expected: a plugin name)");
          continue;
        }
        if (!Boolean.TRUE.equals(p.enabled)) {
          // The APISIX Ingress Controller runs only the plugins marked enabled.
          t.warn(at + ": \"" + p.name + "\" is not run (expected: enabled: true to run it)");
          continue;
        }
        if (plugins.has(p.name)) {
          t.error(at + ".name", "\"" + p.name + "\" listed twice (expected: each plugin once)");
          continue;
        }
        var conf = PluginsBuilder.config(p.name, p.config, null, at, ns, refs, t);
        if (conf != null) {
          plugins.set(p.name, conf);
        }
      }
    }
    var metadata = new java.util.ArrayList<ObjectNode>();
    if (spec.pluginMetadata != null && !spec.pluginMetadata.isNull()) {
      if (!spec.pluginMetadata.isObject()) {
        t.error("spec.pluginMetadata", "not an object (expected: plugin name to its metadata)");
      } else {
        for (var e : spec.pluginMetadata.properties()) {
          var at = "spec.pluginMetadata." + e.getKey();
          var why = PluginSchemas.notRun(e.getKey());
          if (why.isPresent()) {
            t.error(at, why.get());
            continue;
          }
          if (!e.getValue().isObject()) {
            t.error(at, "not an object (expected: the plugin's metadata)");
            continue;
          }
          var json = ((ObjectNode) e.getValue()).deepCopy();
          json.put("id", e.getKey());
          metadata.add(json);
        }
      }
    }
    if (!t.ok()) {
      return t;
    }
    if (!plugins.isEmpty()) {
      var rule = JsonNodeFactory.instance.objectNode();
      rule.put("id", globalRuleId(ns, gp.getMetadata().getName()));
      rule.set("plugins", plugins);
      var obj =
          ModelObjects.read(Kind.GLOBAL_RULES, rule, Map.of("plugins", "spec.plugins"), "spec", t);
      if (obj != null) {
        t.add(Kind.GLOBAL_RULES, obj);
      }
    }
    for (var json : metadata) {
      var at = "spec.pluginMetadata." + json.get("id").asText();
      var obj = ModelObjects.read(Kind.PLUGIN_METADATA, json, Map.of("", at), at, t);
      if (obj != null) {
        t.add(Kind.PLUGIN_METADATA, obj);
      }
    }
    return t;
  }

  /**
   * {@code t} of a GatewayProxy no IngressClass of {@code controller} names: checked all the same,
   * nothing written, and said so.
   */
  public static Translation unreferenced(Translation t, String controller) {
    var out = new Translation();
    t.errors().forEach(e -> out.error(e.field(), e.message()));
    t.warningsWithReason().forEach(w -> out.warn(w, ""));
    out.warn(
        "no IngressClass of controller "
            + controller
            + " names it in spec.parameters: its plugins and plugin metadata are not written");
    return out;
  }

  /** What says how to reach a data plane: not Archway's way; a warning, never silence. */
  private static void provider(GatewayProxySpec spec, Translation t) {
    var p = spec.provider;
    if (p != null) {
      if (!"ControlPlane".equals(p.type)) {
        t.error(
            "spec.provider.type",
            (p.type == null ? "missing" : "\"" + p.type + "\"") + " (expected: ControlPlane)");
      } else {
        var where =
            p.controlPlane == null
                ? ""
                : p.controlPlane.endpoints != null && !p.controlPlane.endpoints.isEmpty()
                    ? " (" + String.join(", ", p.controlPlane.endpoints) + ")"
                    : p.controlPlane.service != null
                        ? " (Service " + p.controlPlane.service.name + ")"
                        : "";
        t.warn(
            "spec.provider: not used by Archway: its operator writes etcd, which the dataplane"
                + " watches; the Admin API it names"
                + where
                + " is not called");
      }
    }
    if (spec.publishService != null || spec.statusAddress != null) {
      t.warn(
          "spec."
              + (spec.publishService != null ? "publishService" : "statusAddress")
              + ": not used by Archway: Ingress status addresses come from the operator's"
              + " --publish-service option");
    }
  }
}
