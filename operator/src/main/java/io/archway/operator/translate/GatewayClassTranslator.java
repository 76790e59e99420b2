package io.archway.operator.translate;

import static io.archway.operator.translate.GatewayApi.condition;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import java.util.ArrayList;

/**
 * A GatewayClass of Archway's controller ({@value GatewayApi#CONTROLLER}): nothing in etcd, only
 * its status. {@code Accepted} says whether its {@code parametersRef} names something Archway reads
 * (an Archway {@code GatewayParameters}, {@code archway.io}, or a GatewayProxy, {@code
 * apisix.apache.org}, as the APISIX Ingress Controller 2.x takes it); {@code SupportedVersion}
 * whether the installed Gateway API bundle is the one this build targets ({@link
 * GatewayApi#BUNDLE_VERSION}). An unsupported version is a warning, not a refusal: the class stays
 * accepted.
 */
public final class GatewayClassTranslator {

  private GatewayClassTranslator() {}

  /** Whether the class is Archway's. */
  public static boolean ours(GatewayClass c) {
    return c.getSpec() != null && GatewayApi.CONTROLLER.equals(c.getSpec().getControllerName());
  }

  /** As {@link #translate(GatewayClass, Refs, String)} with the bundle version unknown. */
  public static Translation translate(GatewayClass c, Refs refs) {
    return translate(c, refs, null);
  }

  /**
   * @param bundleVersion the installed bundle version (the CRDs' annotation), {@code null} when
   *     unknown (files read by {@code translate}/{@code validate}): then not checked
   */
  public static Translation translate(GatewayClass c, Refs refs, String bundleVersion) {
    var t = new Translation();
    if (!ours(c)) {
      t.warn(
          "GatewayClass "
              + c.getMetadata().getName()
              + ": spec.controllerName is not "
              + GatewayApi.CONTROLLER
              + ": not Archway's, nothing to do");
      return t;
    }
    var generation = c.getMetadata().getGeneration();
    var status = new GatewayClassStatus();
    status.setConditions(new ArrayList<>());
    var problem = parametersProblem(c, refs);
    if (problem == null) {
      status
          .getConditions()
          .add(condition(GatewayApi.ACCEPTED, true, "Accepted", "accepted", generation));
    } else {
      t.error("spec.parametersRef", problem);
      status
          .getConditions()
          .add(
              condition(
                  GatewayApi.ACCEPTED,
                  false,
                  GatewayApi.INVALID_PARAMETERS,
                  "spec.parametersRef: " + problem,
                  generation));
    }
    if (bundleVersion == null || GatewayApi.supportedVersion(bundleVersion)) {
      status
          .getConditions()
          .add(
              condition(
                  GatewayApi.SUPPORTED_VERSION,
                  true,
                  "SupportedVersion",
                  bundleVersion == null
                      ? "bundle version not known here; Archway targets "
                          + GatewayApi.BUNDLE_VERSION
                      : "Gateway API " + bundleVersion + " is supported",
                  generation));
    } else {
      var message =
          "installed Gateway API bundle "
              + bundleVersion
              + " is not the one this Archway targets ("
              + GatewayApi.BUNDLE_VERSION
              + "): fields it does not know are ignored";
      t.warn(GatewayApi.UNSUPPORTED_VERSION, message);
      status
          .getConditions()
          .add(
              condition(
                  GatewayApi.SUPPORTED_VERSION,
                  false,
                  GatewayApi.UNSUPPORTED_VERSION,
                  message,
                  generation));
    }
    t.status(status);
    return t;
  }

  /**
   * What is wrong with {@code spec.parametersRef}; {@code null} when nothing is (or it is unset):
   * it names an Archway {@code GatewayParameters} that exists and is valid, or a GatewayProxy that
   * exists.
   */
  static String parametersProblem(GatewayClass c, Refs refs) {
    var p = c.getSpec().getParametersRef();
    if (p == null) {
      return null;
    }
    if (GatewayParametersTranslator.names(p.getGroup(), p.getKind())) {
      var problem = GatewayParametersTranslator.ofClass(c, refs).problem();
      return problem == null
          ? null
          : problem.substring(GatewayParametersTranslator.CLASS_REF.length() + 2);
    }
    if (!"apisix.apache.org".equals(p.getGroup()) || !"GatewayProxy".equals(p.getKind())) {
      return "group "
          + p.getGroup()
          + ", kind "
          + p.getKind()
          + " is not a parameters kind Archway reads (expected: group archway.io, kind"
          + " GatewayParameters; or group apisix.apache.org, kind GatewayProxy)";
    }
    if (p.getNamespace() == null || p.getNamespace().isEmpty()) {
      return "namespace: missing (expected: the GatewayProxy's namespace; it is namespaced)";
    }
    if (refs.gatewayProxy(p.getNamespace(), p.getName()).isEmpty()) {
      return "GatewayProxy " + p.getNamespace() + "/" + p.getName() + " not found";
    }
    return null;
  }

  /**
   * Why a class is not accepted ({@code Accepted: False}, {@code InvalidParameters}), as its
   * condition's message; {@code null} when it is. Its Gateways are not served while it is not.
   */
  public static String notAccepted(GatewayClass c, Refs refs) {
    if (!ours(c)) {
      return null;
    }
    var problem = parametersProblem(c, refs);
    return problem == null ? null : "spec.parametersRef: " + problem;
  }
}
