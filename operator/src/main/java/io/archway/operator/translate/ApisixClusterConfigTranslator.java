package io.archway.operator.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.crds.apisix.ApisixClusterConfig;

/**
 * An ApisixClusterConfig (cluster-scoped) as {@code global_rules/acc_<name>}: {@code
 * monitoring.prometheus.enable} runs the prometheus plugin on every request, as the APISIX Ingress
 * Controller's global rule does. What Archway cannot honour is refused with the field named, never
 * dropped: SkyWalking tracing (the dataplane has no SkyWalking tracer) and {@code admin} (the Admin
 * API the APISIX Ingress Controller writes through; Archway's operator writes etcd itself). A
 * config that enables nothing writes nothing.
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
    if (m != null && m.skywalking != null && Boolean.TRUE.equals(m.skywalking.enable)) {
      t.error(
          "spec.monitoring.skywalking.enable",
          "true: SkyWalking tracing is not supported by Archway (no skywalking tracer plugin;"
              + " expected: false or absent; skywalking-logger sends access logs to SkyWalking)");
    }
    if (m != null && m.skywalking != null && m.skywalking.sampleRatio != null) {
      var ratio = m.skywalking.sampleRatio;
      if (ratio < 0 || ratio > 1) {
        t.error("spec.monitoring.skywalking.sampleRatio", ratio + " (expected: 0..1)");
      }
    }
    if (!t.ok()) {
      return t;
    }
    if (m != null && m.prometheus != null && Boolean.TRUE.equals(m.prometheus.enable)) {
      var plugins = JsonNodeFactory.instance.objectNode();
      JsonNode given = null;
      if (m.prometheus.preferName != null) {
        given = JsonNodeFactory.instance.objectNode().put("prefer_name", m.prometheus.preferName);
      }
      var conf =
          PluginsBuilder.config(
              "prometheus", given, null, "spec.monitoring.prometheus", null, refs, t);
      if (conf != null) {
        plugins.set("prometheus", conf);
        ApisixGlobalRuleTranslator.globalRule(
            id(r.getMetadata().getName()), plugins, "spec.monitoring.prometheus", t);
      }
    }
    return t;
  }
}
