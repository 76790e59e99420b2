package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.ApisixGlobalRule;
import io.archway.model.Kind;
import java.util.Map;

/**
 * An ApisixGlobalRule as {@code global_rules/agr_<namespace>_<name>}: its enabled plugins, checked
 * against their schemas, run on every request the gateway serves.
 */
public final class ApisixGlobalRuleTranslator {

  private ApisixGlobalRuleTranslator() {}

  public static String id(String ns, String name) {
    return Ids.of("agr", ns, name);
  }

  public static Translation translate(ApisixGlobalRule r, Refs refs) {
    var t = new Translation();
    var ns = r.getMetadata().getNamespace();
    var spec = r.getSpec();
    if (spec == null || spec.plugins == null || spec.plugins.isEmpty()) {
      t.error("spec.plugins", "missing (expected: at least one plugin)");
      return t;
    }
    var plugins = JsonNodeFactory.instance.objectNode();
    PluginsBuilder.add(spec.plugins, "spec.plugins", ns, refs, plugins, t);
    if (t.ok()) {
      globalRule(id(ns, r.getMetadata().getName()), plugins, "spec.plugins", t);
    }
    return t;
  }

  /** A global rule running {@code plugins} (problems reported on {@code field}). */
  static void globalRule(String id, ObjectNode plugins, String field, Translation t) {
    var json = JsonNodeFactory.instance.objectNode();
    json.put("id", id);
    json.set("plugins", plugins);
    var obj = ModelObjects.read(Kind.GLOBAL_RULES, json, Map.of("plugins", field), "spec", t);
    if (obj != null) {
      t.add(Kind.GLOBAL_RULES, obj);
    }
  }
}
