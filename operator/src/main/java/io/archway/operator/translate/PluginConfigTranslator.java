package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.crds.apisix.v1alpha1.PluginConfig;
import io.archway.model.Kind;
import java.util.Map;

/**
 * A PluginConfig (APISIX Ingress Controller 2.x, {@code apisix.apache.org/v1alpha1}) as {@code
 * plugin_configs/pc_<namespace>_<name>} ({@link #id}): the id a route names in {@code
 * plugin_config_id}, which the Ingress annotation {@code k8s.apisix.apache.org/plugin-config-name}
 * and Gateway API ExtensionRef filters resolve to.
 */
public final class PluginConfigTranslator {

  private PluginConfigTranslator() {}

  /** The {@code plugin_configs} id of the PluginConfig {@code namespace/name}. */
  public static String id(String namespace, String name) {
    return Ids.of("pc", namespace, name);
  }

  public static Translation translate(PluginConfig pc, Refs refs) {
    var t = new Translation();
    var ns = pc.getMetadata().getNamespace();
    var name = pc.getMetadata().getName();
    var spec = pc.getSpec();
    if (spec == null || spec.plugins == null) {
      t.error("spec.plugins", "missing (expected: a list of plugins)");
      return t;
    }
    var json = JsonNodeFactory.instance.objectNode();
    json.put("id", id(ns, name));
    json.put("name", ApisixRouteTranslator.truncate(ns + "/" + name, 100));
    var plugins = json.putObject("plugins");
    PluginsBuilder.add(spec.plugins, "spec.plugins", ns, refs, plugins, t);
    if (!t.ok()) {
      return t;
    }
    var obj =
        ModelObjects.read(Kind.PLUGIN_CONFIGS, json, Map.of("plugins", "spec.plugins"), "spec", t);
    if (obj != null) {
      t.add(Kind.PLUGIN_CONFIGS, obj);
    }
    return t;
  }
}
