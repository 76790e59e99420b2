package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Enums;
import io.archway.crds.Timeout;
import io.archway.crds.apisix.ApisixUpstreamSpec;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The settings of a {@link BackendTrafficPolicy}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BackendTrafficPolicySpec {

  @JsonPropertyDescription(
      "The Services (kind Service, group \"\") whose upstreams get these settings; sectionName"
          + " narrows one to a port name.")
  @Required
  public List<PolicyTargetRef> targetRefs;

  @JsonPropertyDescription("The load balancer; roundrobin by default.")
  public ApisixUpstreamSpec.LoadBalancer loadbalancer;

  @JsonPropertyDescription("The protocol to the upstream: http, https, grpc or grpcs.")
  @SchemaFrom(type = Enums.Scheme.class)
  public String scheme;

  @JsonPropertyDescription("How many other nodes to try after a failure.")
  @Min(0)
  public Integer retries;

  @JsonPropertyDescription("Timeouts towards the upstream.")
  public Timeout timeout;

  @JsonPropertyDescription(
      "The Host header sent upstream: pass (the client's), node (the node's), rewrite"
          + " (upstreamHost).")
  @SchemaFrom(type = Enums.PassHost.class)
  public String passHost;

  @JsonPropertyDescription("The Host header when passHost is rewrite.")
  public String upstreamHost;
}
