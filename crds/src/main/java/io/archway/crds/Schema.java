package io.archway.crds;

/** Patterns shared by the resources' schemas. */
public final class Schema {

  private Schema() {}

  /** A Go-style duration as the APISIX Ingress Controller takes it: {@code 5s}, {@code 1m30s}. */
  public static final String DURATION = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";

  /** A Kubernetes object name (DNS-1123 subdomain). */
  public static final String NAME = "^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$";
}
