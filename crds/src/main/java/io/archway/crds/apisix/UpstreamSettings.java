package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Enums;
import io.archway.crds.Timeout;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Min;

/** The settings that apply to all ports, or to one port in {@code portLevelSettings}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class UpstreamSettings {

  @JsonPropertyDescription("The load balancer; roundrobin by default.")
  public ApisixUpstreamSpec.LoadBalancer loadbalancer;

  @JsonPropertyDescription("The protocol to the upstream; http by default.")
  @SchemaFrom(type = Enums.Scheme.class)
  public String scheme;

  @JsonPropertyDescription("How many other nodes to try after a failure.")
  @Min(0)
  public Integer retries;

  @JsonPropertyDescription("Timeouts towards the upstream.")
  public Timeout timeout;

  @JsonPropertyDescription("Active and passive health checks of the nodes.")
  public ApisixUpstreamSpec.HealthCheck healthCheck;

  @JsonPropertyDescription("A Secret with the client certificate for mTLS to the upstream.")
  public ApisixUpstreamSpec.SecretReference tlsSecret;

  @JsonPropertyDescription(
      "The Host header sent upstream: pass (the client's), node (the node's), rewrite"
          + " (upstreamHost).")
  @SchemaFrom(type = Enums.PassHost.class)
  public String passHost;

  @JsonPropertyDescription("The Host header when passHost is rewrite.")
  public String upstreamHost;

  /**
   * The APISIX Ingress Controller 1.x field (its ApisixUpstream v2 had it; 2.x dropped it), written
   * as APISIX's upstream {@code keepalive_pool}.
   */
  @JsonProperty("keepalive_pool")
  @JsonPropertyDescription(
      "Upstream connections kept open: size, idle_timeout (seconds), requests; 0 or absent is"
          + " APISIX's default.")
  public KeepalivePool keepalivePool;

  /** {@code keepalive_pool}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class KeepalivePool {
    @JsonPropertyDescription("Connections kept per upstream; 320 by default.")
    @Min(0)
    public Integer size;

    @JsonProperty("idle_timeout")
    @JsonPropertyDescription("Seconds an idle connection is kept; 60 by default.")
    @Min(0)
    public Integer idleTimeout;

    @JsonPropertyDescription("Requests a connection serves before it is closed; 1000 by default.")
    @Min(0)
    public Integer requests;
  }
}
