package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.crds.apisix.ApisixPluginConfig;
import io.archway.model.Kind;
import java.util.Map;

/**
 * An ApisixPluginConfig as {@code plugin_configs/apc_<namespace>_<name>}: its enabled plugins, each
 * checked against its schema as a route's are. The ApisixRoute rules that name it get its id in
 * {@code plugin_config_id}; the dataplane merges its plugins under theirs (a route's own plugin of
 * the same name wins, as in APISIX).
 */
public final class ApisixPluginConfigTranslator {

  private ApisixPluginConfigTranslator() {}

  public static String id(String ns, String name) {
    return Ids.of("apc", ns, name);
  }

  public static Translation translate(ApisixPluginConfig r, Refs refs) {
    var t = new Translation();
    var ns = r.getMetadata().getNamespace();
    var name = r.getMetadata().getName();
    var spec = r.getSpec();
    if (spec == null || spec.plugins == null || spec.plugins.isEmpty()) {
      t.error("spec.plugins", "missing (expected: at least one plugin)");
      return t;
    }
    var plugins = JsonNodeFactory.instance.objectNode();
    PluginsBuilder.add(spec.plugins, "spec.plugins", ns, refs, plugins, t);
    if (!t.ok()) {
      return t;
    }
    var json = JsonNodeFactory.instance.objectNode();
    json.put("id", id(ns, name));
    json.put("name", ApisixRouteTranslator.truncate(ns + "/" + name, 100));
    json.set("plugins", plugins);
    var obj =
        ModelObjects.read(Kind.PLUGIN_CONFIGS, json, Map.of("plugins", "spec.plugins"), "spec", t);
    if (obj != null) {
      t.add(Kind.PLUGIN_CONFIGS, obj);
    }
    return t;
  }
}
