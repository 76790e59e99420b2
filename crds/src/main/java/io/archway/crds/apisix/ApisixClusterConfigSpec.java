package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What an {@link ApisixClusterConfig} sets for the whole gateway. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApisixClusterConfigSpec {

  @JsonPropertyDescription(
      "The IngressClass that serves it (APISIX Ingress Controller 1.x); the operator's own when"
          + " empty.")
  public String ingressClassName;

  @JsonPropertyDescription("Metrics and tracing for every request.")
  public Monitoring monitoring;

  @JsonPropertyDescription(
      "The APISIX Admin API the APISIX Ingress Controller writes through. Not applicable to"
          + " Archway, whose operator writes etcd directly: refused when set.")
  public Admin admin;

  /** {@code monitoring}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Monitoring {
    @JsonPropertyDescription("Prometheus metrics of every route (the prometheus plugin).")
    public Prometheus prometheus;

    @JsonPropertyDescription(
        "SkyWalking tracing. Archway has no SkyWalking tracer: enable: true is refused.")
    public Skywalking skywalking;
  }

  /** {@code monitoring.prometheus}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Prometheus {
    @JsonPropertyDescription("Whether every request is counted in the Prometheus metrics.")
    public Boolean enable;

    /** The prometheus plugin's {@code prefer_name}, as the controller 1.x passes it on. */
    @JsonProperty("prefer_name")
    @JsonPropertyDescription("Whether metrics are labelled with route names instead of ids.")
    public Boolean preferName;
  }

  /** {@code monitoring.skywalking}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Skywalking {
    @JsonPropertyDescription("Whether requests are traced with SkyWalking (refused when true).")
    public Boolean enable;

    @JsonPropertyDescription("The share of requests traced, 0 to 1.")
    public Double sampleRatio;
  }

  /** {@code admin}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Admin {
    @JsonPropertyDescription("The Admin API's base URL.")
    public String baseURL;

    @JsonPropertyDescription("The Admin API's key.")
    public String adminKey;

    /** Part of {@code admin}, which is refused as a whole when set. */
    @JsonPropertyDescription("The Admin API client's request timeout, e.g. 15s.")
    public String clientTimeout;
  }
}
