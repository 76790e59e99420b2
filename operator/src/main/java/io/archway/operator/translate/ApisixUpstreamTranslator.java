package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.crds.Enums;
import io.archway.crds.apisix.ApisixUpstream;
import java.util.HashSet;

/**
 * Checks an ApisixUpstream. It writes nothing of its own: its settings are applied by the routes
 * whose backends use the Service of the same name, and its external nodes by the routes that name
 * it in {@code upstreams}. Its status tells whether those routes can use it.
 */
public final class ApisixUpstreamTranslator {

  private ApisixUpstreamTranslator() {}

  public static Translation translate(ApisixUpstream au, Refs refs) {
    var t = new Translation();
    var spec = au.getSpec();
    if (spec == null) {
      return t;
    }
    var ns = au.getMetadata().getNamespace();
    var all = JsonNodeFactory.instance.objectNode();
    Upstreams.apply(spec, null, all, "spec", "", ns, refs, t);
    if (spec.portLevelSettings != null) {
      var ports = new HashSet<Integer>();
      for (int i = 0; i < spec.portLevelSettings.size(); i++) {
        var p = spec.portLevelSettings.get(i);
        var at = "spec.portLevelSettings[" + i + "]";
        if (p.port == null) {
          t.error(at + ".port", "missing (expected: a Service port)");
        } else if (!ports.add(p.port)) {
          t.error(at + ".port", p.port + " listed twice (expected: each port once)");
        } else {
          // Over the settings of all ports, as a route's upstream gets them.
          Upstreams.settings(p, all.deepCopy(), at, "", ns, refs, t);
        }
      }
    }
    if (spec.externalNodes != null) {
      for (int i = 0; i < spec.externalNodes.size(); i++) {
        var n = spec.externalNodes.get(i);
        var at = "spec.externalNodes[" + i + "]";
        if (n.name == null || n.name.isEmpty()) {
          t.error(at + ".name", "missing (expected: a domain or a Service name)");
        }
        if (n.type != null && !Enums.isOneOf(Enums.ExternalNodeType.class, n.type)) {
          t.error(at + ".type", Exprs.show(n.type) + " (expected: Domain or Service)");
        }
      }
    }
    if (spec.subsets != null) {
      var names = new HashSet<String>();
      for (int i = 0; i < spec.subsets.size(); i++) {
        var s = spec.subsets.get(i);
        if (s.name == null || !names.add(s.name)) {
          t.error(
              "spec.subsets[" + i + "].name", Exprs.show(s.name) + " (expected: a unique name)");
        }
        if (s.labels == null || s.labels.isEmpty()) {
          t.error("spec.subsets[" + i + "].labels", "missing (expected: the pods' labels)");
        }
      }
    }
    return t;
  }
}
