package io.archway.crds;

/** Patterns shared by the resources' schemas. */
public final class Schema {

  private Schema() {}

  /**
   * A Go duration as the APISIX Ingress Controller takes it ({@code metav1.Duration}, read by Go's
   * {@code time.ParseDuration}): {@code 5s}, {@code 1m30s}, {@code 1.5s}, {@code .5s}, {@code
   * 100us}, {@code 0}, with an optional sign (the translation refuses what is not above zero where
   * zero has no meaning).
   */
  public static final String DURATION =
      "^[-+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$";

  /** A Kubernetes object name (DNS-1123 subdomain). */
  public static final String NAME = "^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$";
}
