package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;

/**
 * The Gateway API words Archway uses: its controller name, the bundle version this build targets,
 * and the spec's condition types and reasons (users and conformance tests read them, so they are
 * exactly the spec's).
 */
public final class GatewayApi {

  private GatewayApi() {}

  public static final String GROUP = "gateway.networking.k8s.io";

  /** The {@code spec.controllerName} of the GatewayClasses Archway serves. */
  public static final String CONTROLLER = "archway.io/gateway-controller";

  /**
   * The Gateway API bundle this build is written against: the one fabric8 {@code
   * kubernetes-model-gatewayapi} 7.4.0 is generated from. A bundle of the same minor version is
   * supported ({@link #supportedVersion}); change this with the fabric8 version.
   */
  public static final String BUNDLE_VERSION = "v1.2.1";

  /** The annotation the upstream CRDs carry their bundle version in. */
  public static final String BUNDLE_VERSION_ANNOTATION = "gateway.networking.k8s.io/bundle-version";

  /**
   * Whether an installed bundle version is the one this build targets: the same major and minor
   * ({@code v1.2.0} and {@code v1.2.1} differ only in fixes).
   */
  public static boolean supportedVersion(String installed) {
    return installed != null && minor(installed).equals(minor(BUNDLE_VERSION));
  }

  private static String minor(String v) {
    var s = v.startsWith("v") ? v.substring(1) : v;
    var parts = s.split("[.-]");
    return parts.length < 2 ? s : parts[0] + "." + parts[1];
  }

  // Condition types.
  public static final String ACCEPTED = "Accepted";
  public static final String PROGRAMMED = "Programmed";
  public static final String RESOLVED_REFS = "ResolvedRefs";
  public static final String CONFLICTED = "Conflicted";
  public static final String SUPPORTED_VERSION = "SupportedVersion";

  // Reasons (GatewayClass).
  public static final String INVALID_PARAMETERS = "InvalidParameters";
  public static final String UNSUPPORTED_VERSION = "UnsupportedVersion";

  // Reasons (Gateway).
  public static final String LISTENERS_NOT_VALID = "ListenersNotValid";
  public static final String UNSUPPORTED_ADDRESS = "UnsupportedAddress";
  public static final String ADDRESS_NOT_ASSIGNED = "AddressNotAssigned";
  public static final String PENDING = "Pending";
  public static final String INVALID = "Invalid";

  // Reasons (Listener).
  public static final String PORT_UNAVAILABLE = "PortUnavailable";
  public static final String UNSUPPORTED_PROTOCOL = "UnsupportedProtocol";
  public static final String UNSUPPORTED_VALUE = "UnsupportedValue";
  public static final String NO_CONFLICTS = "NoConflicts";
  public static final String HOSTNAME_CONFLICT = "HostnameConflict";
  public static final String PROTOCOL_CONFLICT = "ProtocolConflict";
  public static final String INVALID_CERTIFICATE_REF = "InvalidCertificateRef";
  public static final String INVALID_ROUTE_KINDS = "InvalidRouteKinds";
  public static final String REF_NOT_PERMITTED = "RefNotPermitted";

  /**
   * A condition as a translator computes it: no {@code lastTransitionTime} (the reconciler keeps
   * the previous one while the status stays, see {@code GatewayConditions}).
   */
  public static Condition condition(
      String type, boolean status, String reason, String message, Long generation) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status ? "True" : "False")
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .build();
  }
}
