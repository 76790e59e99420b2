package io.archway.operator.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.crds.apisix.ApisixClusterConfig;

/**
 * An ApisixClusterConfig (cluster-scoped) as {@code global_rules/acc_<name>}: {@code
 * monitoring.prometheus.enable} runs the prometheus plugin on every request and {@code
 * monitoring.skywalking.enable} the skywalking tracer (with {@code sampleRatio}), as the APISIX
 * Ingress Controller's global rule does; where spans go is the skywalking plugin's {@code
 * plugin_metadata}. What Archway cannot honour is refused with the field named, never dropped:
 * {@code admin} (the Admin API the APISIX Ingress Controller writes through; Archway's operator
 * writes etcd itself). A config that enables nothing writes nothing.
 */
public final class ApisixClusterConfigTranslator {

  private ApisixClusterConfigTranslator() {}

  public static String id(String name) {
    return Ids.of("acc", name);
  }

  public static Translation translate(ApisixClusterConfig r, Refs refs) {
    var t = new Translation();
    var spec = r.getSpec();
    if (spec == null) {
      return t;
    }
    if (spec.admin != null
        && (spec.admin.baseURL != null
            || spec.admin.adminKey != null
            || spec.admin.clientTimeout != null)) {
      t.error(
          "spec.admin",
          "not applicable to Archway: its operator writes the configuration to etcd directly, not"
              + " through an Admin API (expected: no admin; etcd is set by the operator's --etcd"
              + " option)");
    }
    var m = spec.monitoring;
    if (m != null && m.skywalking != null && m.skywalking.sampleRatio != null) {
      var ratio = m.skywalking.sampleRatio;
      if (ratio < 0 || ratio > 1) {
        t.error("spec.monitoring.skywalking.sampleRatio", ratio + " (expected: 0..1)");
      }
    }
    if (!t.ok()) {
      return t;
    }
    var plugins = JsonNodeFactory.instance.objectNode();
    if (m != null && m.prometheus != null && Boolean.TRUE.equals(m.prometheus.enable)) {
      JsonNode given = null;
      if (m.prometheus.preferName != null) {
        given = JsonNodeFactory.instance.objectNode().put("prefer_name", m.prometheus.preferName);
      }
      var conf =
          PluginsBuilder.config(
              "prometheus", given, null, "spec.monitoring.prometheus", null, refs, t);
      if (conf != null) {
        plugins.set("prometheus", conf);
      }
    }
    if (m != null && m.skywalking != null && Boolean.TRUE.equals(m.skywalking.enable)) {
      var ratio = JsonNodeFactory.instance.objectNode();
      if (m.skywalking.sampleRatio != null) {
        ratio.put("sample_ratio", m.skywalking.sampleRatio);
      }
      var conf =
          PluginsBuilder.config(
              "skywalking", ratio, null, "spec.monitoring.skywalking", null, refs, t);
      if (conf != null) {
        plugins.set("skywalking", conf);
      }
    }
    if (!plugins.isEmpty() && t.ok()) {
      ApisixGlobalRuleTranslator.globalRule(
          id(r.getMetadata().getName()), plugins, "spec.monitoring", t);
    }
    return t;
  }
}
