package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.ApisixUpstreamSpec;
import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy;
import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicySpec;
import io.archway.crds.apisix.v1alpha1.PolicyTargetRef;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.Comparator;

/**
 * A BackendTrafficPolicy (APISIX Ingress Controller 2.x): upstream settings for the Services it
 * targets. It writes nothing of its own: the Ingress backends on those Services carry its settings
 * ({@link #apply}), and are reconciled again whenever it changes. Here it is checked on its own, so
 * a bad one is reported on itself. (ApisixRoute backends take their settings from ApisixUpstream,
 * as in the APISIX Ingress Controller.)
 */
public final class BackendTrafficPolicyTranslator {

  private BackendTrafficPolicyTranslator() {}

  public static Translation translate(BackendTrafficPolicy p, Refs refs) {
    var t = new Translation();
    var spec = p.getSpec();
    if (spec == null || spec.targetRefs == null || spec.targetRefs.isEmpty()) {
      t.error("spec.targetRefs", "missing (expected: at least one Service)");
      return t;
    }
    for (int i = 0; i < spec.targetRefs.size(); i++) {
      var ref = spec.targetRefs.get(i);
      var at = "spec.targetRefs[" + i + "]";
      if (ref == null || ref.name == null || ref.name.isEmpty()) {
        t.error(at + ".name", "missing (expected: a Service name)");
      } else if (!targetsServices(ref)) {
        t.error(
            at + ".kind",
            "\""
                + (ref.group == null || ref.group.isEmpty() ? "" : ref.group + "/")
                + ref.kind
                + "\" (expected: Service, group \"\")");
      }
    }
    // The settings, checked with errors on the policy's own fields.
    settings(spec, JsonNodeFactory.instance.objectNode(), "spec", null, p, refs, t);
    return t;
  }

  private static boolean targetsServices(PolicyTargetRef ref) {
    return "Service".equals(ref.kind) && (ref.group == null || ref.group.isEmpty());
  }

  /**
   * Gives {@code up}, the upstream of Service {@code namespace/service} on {@code port}, the
   * settings of the policy that targets it: the one naming that port (sectionName) over one naming
   * the whole Service; of equals, the oldest. Problems are recorded on {@code at}, naming the
   * policy; false when there were some.
   */
  static boolean apply(
      String namespace,
      String service,
      IntOrString port,
      ObjectNode up,
      String at,
      Refs refs,
      Translation t) {
    BackendTrafficPolicy whole = null;
    BackendTrafficPolicy section = null;
    String portName = portName(namespace, service, port, refs);
    var policies =
        refs.backendTrafficPolicies(namespace).stream()
            .sorted(
                Comparator.comparing(
                        (BackendTrafficPolicy p) ->
                            String.valueOf(p.getMetadata().getCreationTimestamp()))
                    .thenComparing(p -> p.getMetadata().getName()))
            .toList();
    for (var p : policies) {
      if (p.getSpec() == null || p.getSpec().targetRefs == null) {
        continue;
      }
      for (var ref : p.getSpec().targetRefs) {
        if (ref == null || !service.equals(ref.name) || !targetsServices(ref)) {
          continue;
        }
        if (ref.sectionName == null || ref.sectionName.isEmpty()) {
          whole = whole == null ? p : whole;
        } else if (ref.sectionName.equals(portName)) {
          section = section == null ? p : section;
        }
      }
    }
    var policy = section != null ? section : whole;
    if (policy == null) {
      return true;
    }
    int before = t.errors().size();
    var scratch = new Translation();
    settings(
        policy.getSpec(),
        up,
        "BackendTrafficPolicy " + namespace + "/" + policy.getMetadata().getName() + ": spec",
        at,
        policy,
        refs,
        scratch);
    scratch.errors().forEach(e -> t.error(at, e.message()));
    scratch.warningsWithReason().forEach(w -> t.warn(w, ""));
    return t.errors().size() == before;
  }

  /** The name of the Service port a backend names by name or number; null when unknown. */
  private static String portName(String ns, String service, IntOrString port, Refs refs) {
    if (port == null) {
      return null;
    }
    if (port.getStrVal() != null) {
      return port.getStrVal();
    }
    return refs.service(ns, service)
        .map(s -> Upstreams.port(s, port))
        .map(io.fabric8.kubernetes.api.model.ServicePort::getName)
        .orElse(null);
  }

  /**
   * The policy's settings on {@code up}, through the rules ApisixUpstream's use (the same fields,
   * the same checks); {@code where} names the policy's spec in messages.
   */
  private static void settings(
      BackendTrafficPolicySpec spec,
      ObjectNode up,
      String where,
      String at,
      BackendTrafficPolicy p,
      Refs refs,
      Translation t) {
    var s = new ApisixUpstreamSpec();
    s.loadbalancer = spec.loadbalancer;
    s.scheme = spec.scheme;
    s.retries = spec.retries;
    s.timeout = spec.timeout;
    s.passHost = spec.passHost;
    s.upstreamHost = spec.upstreamHost;
    if (at == null) {
      // Checked on its own: errors on the policy's fields.
      var scratch = new Translation();
      Upstreams.apply(s, null, up, where, "", p.getMetadata().getNamespace(), refs, scratch);
      for (var e : scratch.errors()) {
        var m = e.message();
        if (e.field().isEmpty() && m.startsWith(where + ".")) {
          int colon = m.indexOf(": ");
          t.error(m.substring(0, colon), m.substring(colon + 2));
        } else {
          t.error(e.field().isEmpty() ? where : e.field(), m);
        }
      }
      return;
    }
    Upstreams.apply(s, null, up, where, at, p.getMetadata().getNamespace(), refs, t);
  }
}
