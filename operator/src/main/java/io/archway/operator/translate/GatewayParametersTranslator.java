package io.archway.operator.translate;

import io.archway.crds.Enums;
import io.archway.crds.archway.GatewayParameters;
import io.archway.crds.archway.GatewayParametersSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Archway's {@link GatewayParameters} ({@code archway.io/v1alpha1}): what a GatewayClass's {@code
 * spec.parametersRef} or a Gateway's {@code spec.infrastructure.parametersRef} may name. Nothing in
 * etcd of its own: it is checked here, and {@link #effective} gives a Gateway the parameters that
 * apply to it (its class's, overridden field by field by its own).
 */
public final class GatewayParametersTranslator {

  private GatewayParametersTranslator() {}

  public static final String GROUP = "archway.io";
  public static final String KIND = "GatewayParameters";

  private static final List<String> TLS_PROTOCOLS = List.of("TLSv1.1", "TLSv1.2", "TLSv1.3");

  /** The object alone: its problems as errors naming the field; nothing in etcd. */
  public static Translation translate(GatewayParameters p, Refs refs) {
    var t = new Translation();
    problems(p).forEach(problem -> t.error(problem.field(), problem.message()));
    return t;
  }

  /** What is wrong with a GatewayParameters' spec; empty when nothing is. */
  static List<Translation.FieldError> problems(GatewayParameters p) {
    var out = new ArrayList<Translation.FieldError>();
    var spec = p.getSpec();
    if (spec == null) {
      return out;
    }
    var s = spec.service;
    if (s != null) {
      if (s.type != null && !Enums.isOneOf(Enums.ServiceType.class, s.type)) {
        out.add(
            new Translation.FieldError(
                "spec.service.type",
                s.type + " (expected: " + Enums.oneOf(Enums.ServiceType.class) + ")"));
      }
      if (s.externalTrafficPolicy != null
          && !Enums.isOneOf(Enums.ExternalTrafficPolicy.class, s.externalTrafficPolicy)) {
        out.add(
            new Translation.FieldError(
                "spec.service.externalTrafficPolicy",
                s.externalTrafficPolicy
                    + " (expected: "
                    + Enums.oneOf(Enums.ExternalTrafficPolicy.class)
                    + ")"));
      }
      if (s.loadBalancerSourceRanges != null) {
        for (int i = 0; i < s.loadBalancerSourceRanges.size(); i++) {
          var range = s.loadBalancerSourceRanges.get(i);
          if (range == null || !range.matches("[0-9a-fA-F.:]+/[0-9]{1,3}")) {
            out.add(
                new Translation.FieldError(
                    "spec.service.loadBalancerSourceRanges[" + i + "]",
                    range + " (expected: a CIDR, e.g. 10.0.0.0/8)"));
          }
        }
      }
    }
    var tls = spec.listenerDefaults == null ? null : spec.listenerDefaults.tls;
    if (tls != null && tls.protocols != null) {
      if (tls.protocols.isEmpty()) {
        out.add(
            new Translation.FieldError(
                "spec.listenerDefaults.tls.protocols",
                "empty (expected: at least one of " + String.join(", ", TLS_PROTOCOLS) + ")"));
      }
      for (int i = 0; i < tls.protocols.size(); i++) {
        if (!TLS_PROTOCOLS.contains(tls.protocols.get(i))) {
          out.add(
              new Translation.FieldError(
                  "spec.listenerDefaults.tls.protocols[" + i + "]",
                  tls.protocols.get(i)
                      + " (expected: one of "
                      + String.join(", ", TLS_PROTOCOLS)
                      + ")"));
        }
      }
    }
    return out;
  }

  /** Whether a reference names this kind. */
  public static boolean names(String group, String kind) {
    return GROUP.equals(group) && KIND.equals(kind);
  }

  /**
   * The GatewayParameters a reference names, or why it cannot be used: missing, or invalid. {@code
   * at} is the referring field.
   */
  static Resolved resolve(String namespace, String name, String at, Refs refs) {
    var found = refs.gatewayParameters(namespace, name);
    if (found.isEmpty()) {
      return Resolved.problem(at + ": " + KIND + " " + namespace + "/" + name + " not found");
    }
    var problems = problems(found.get());
    if (!problems.isEmpty()) {
      return Resolved.problem(
          at
              + ": "
              + KIND
              + " "
              + namespace
              + "/"
              + name
              + " is not valid: "
              + String.join("; ", problems.stream().map(Object::toString).toList()));
    }
    var spec = found.get().getSpec();
    return new Resolved(spec == null ? new GatewayParametersSpec() : spec, null);
  }

  /**
   * What a reference came to: the parameters ({@code null} when there are none), or the problem
   * that makes its referrer {@code InvalidParameters}.
   */
  public record Resolved(GatewayParametersSpec spec, String problem) {
    static Resolved problem(String problem) {
      return new Resolved(null, problem);
    }

    static final Resolved NONE = new Resolved(null, null);
  }

  static final String CLASS_REF = "spec.parametersRef";

  /** The GatewayParameters of a class's {@code parametersRef}, when it names one. */
  static Resolved ofClass(GatewayClass c, Refs refs) {
    var p = c.getSpec() == null ? null : c.getSpec().getParametersRef();
    if (p == null || !names(p.getGroup(), p.getKind())) {
      return Resolved.NONE;
    }
    if (p.getNamespace() == null || p.getNamespace().isEmpty()) {
      return Resolved.problem(
          CLASS_REF
              + ": namespace: missing (expected: the "
              + KIND
              + "' namespace; it is namespaced)");
    }
    return resolve(p.getNamespace(), p.getName(), CLASS_REF, refs);
  }

  /**
   * The parameters that apply to a Gateway: its class's {@code parametersRef} (when it names a
   * GatewayParameters), overridden field by field by its {@code spec.infrastructure.parametersRef}
   * (in its namespace). A problem with its own reference is the Gateway's {@code
   * InvalidParameters}; one with its class's is the class's (see {@link GatewayClassTranslator}).
   */
  public static Resolved effective(Gateway gw, Refs refs) {
    var className = gw.getSpec() == null ? null : gw.getSpec().getGatewayClassName();
    var cls = className == null ? null : refs.gatewayClass(className).orElse(null);
    var base = cls == null ? Resolved.NONE : ofClass(cls, refs);
    var infra = gw.getSpec() == null ? null : gw.getSpec().getInfrastructure();
    var ref = infra == null ? null : infra.getParametersRef();
    if (ref == null) {
      return base.problem() == null ? base : Resolved.NONE;
    }
    var at = "spec.infrastructure.parametersRef";
    if (!names(ref.getGroup(), ref.getKind())) {
      return Resolved.problem(
          at
              + ": group "
              + ref.getGroup()
              + ", kind "
              + ref.getKind()
              + " is not a parameters kind Archway reads (expected: group "
              + GROUP
              + ", kind "
              + KIND
              + ")");
    }
    var own = resolve(gw.getMetadata().getNamespace(), ref.getName(), at, refs);
    if (own.problem() != null) {
      return own;
    }
    return new Resolved(merge(base.problem() == null ? base.spec() : null, own.spec()), null);
  }

  /** {@code over}'s fields where set, else {@code base}'s; labels and annotations joined. */
  static GatewayParametersSpec merge(GatewayParametersSpec base, GatewayParametersSpec over) {
    if (base == null) {
      return over;
    }
    var out = new GatewayParametersSpec();
    var bs = base.service;
    var os = over.service;
    if (bs != null || os != null) {
      var s = new GatewayParametersSpec.Service();
      var b = bs == null ? new GatewayParametersSpec.Service() : bs;
      var o = os == null ? new GatewayParametersSpec.Service() : os;
      s.type = o.type != null ? o.type : b.type;
      s.externalTrafficPolicy =
          o.externalTrafficPolicy != null ? o.externalTrafficPolicy : b.externalTrafficPolicy;
      s.loadBalancerClass = o.loadBalancerClass != null ? o.loadBalancerClass : b.loadBalancerClass;
      s.loadBalancerSourceRanges =
          o.loadBalancerSourceRanges != null
              ? o.loadBalancerSourceRanges
              : b.loadBalancerSourceRanges;
      s.labels = join(b.labels, o.labels);
      s.annotations = join(b.annotations, o.annotations);
      out.service = s;
    }
    var bt = tls(base);
    var ot = tls(over);
    if (bt != null || ot != null) {
      var t = new GatewayParametersSpec.Tls();
      t.protocols =
          ot != null && ot.protocols != null ? ot.protocols : bt == null ? null : bt.protocols;
      out.listenerDefaults = new GatewayParametersSpec.ListenerDefaults();
      out.listenerDefaults.tls = t;
    }
    return out;
  }

  private static GatewayParametersSpec.Tls tls(GatewayParametersSpec s) {
    return s.listenerDefaults == null ? null : s.listenerDefaults.tls;
  }

  /** {@code a}'s entries, then {@code b}'s (which win); {@code null} when both are. */
  static Map<String, String> join(Map<String, String> a, Map<String, String> b) {
    if (a == null && b == null) {
      return null;
    }
    var out = new LinkedHashMap<String, String>();
    if (a != null) {
      out.putAll(a);
    }
    if (b != null) {
      out.putAll(b);
    }
    return out;
  }

  /** The TLS versions the HTTPS listeners' certificates accept; {@code null}: the dataplane's. */
  static List<String> tlsProtocols(GatewayParametersSpec spec) {
    var tls = spec == null ? null : tls(spec);
    return tls == null ? null : tls.protocols;
  }

  /**
   * Whether a Gateway may be served as far as its class and its parameters go: {@code reason} is
   * {@code null} when it may ({@code params} are then its effective parameters, {@code null} when
   * it has none); else {@code Invalid} (its class is not accepted) or {@code InvalidParameters}
   * (its own {@code spec.infrastructure.parametersRef}), for its {@code Accepted} condition.
   */
  public record Admission(String reason, String message, GatewayParametersSpec params) {}

  public static Admission admission(Gateway gw, Refs refs) {
    var className = gw.getSpec() == null ? null : gw.getSpec().getGatewayClassName();
    var cls = className == null ? null : refs.gatewayClass(className).orElse(null);
    var classProblem = cls == null ? null : GatewayClassTranslator.notAccepted(cls, refs);
    if (classProblem != null) {
      return new Admission(
          GatewayApi.INVALID,
          "GatewayClass "
              + className
              + " is not accepted (Accepted: False, "
              + GatewayApi.INVALID_PARAMETERS
              + ": "
              + classProblem
              + "): its Gateways are not served",
          null);
    }
    var effective = effective(gw, refs);
    if (effective.problem() != null) {
      return new Admission(GatewayApi.INVALID_PARAMETERS, effective.problem(), null);
    }
    return new Admission(null, null, effective.spec());
  }

  /**
   * An HTTPS listener's {@code ssls} object with the listener defaults' TLS settings ({@code
   * ssl_protocols}); as it is without them.
   */
  static com.fasterxml.jackson.databind.node.ObjectNode withTlsDefaults(
      com.fasterxml.jackson.databind.node.ObjectNode ssl, GatewayParametersSpec params) {
    var protocols = tlsProtocols(params);
    if (protocols == null || protocols.isEmpty()) {
      return ssl;
    }
    var out = ssl.deepCopy();
    var arr = out.putArray("ssl_protocols");
    protocols.forEach(arr::add);
    return out;
  }
}
