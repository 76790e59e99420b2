package io.archway.crds.archway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Enums;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import java.util.List;
import java.util.Map;

/** The settings of a {@link GatewayParameters}; every field is optional. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GatewayParametersSpec {

  @JsonPropertyDescription(
      "The Service Archway creates per Gateway (<gateway>-archway, in the Gateway's namespace) in"
          + " front of the dataplane pods, one port per listener port; the Gateway's addresses"
          + " come from it. Without it, the Gateway uses the Service the operator publishes"
          + " (--publish-service).")
  public Service service;

  @JsonPropertyDescription(
      "What applies to every listener of the Gateways using these parameters, unless the"
          + " Gateway's own parameters say otherwise.")
  public ListenerDefaults listenerDefaults;

  /** {@code service}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Service {
    @JsonPropertyDescription("The Service type; LoadBalancer when unset.")
    @SchemaFrom(type = Enums.ServiceType.class)
    public String type;

    @JsonPropertyDescription(
        "Annotations of the Service (e.g. a cloud load balancer's); the Gateway's"
            + " spec.infrastructure.annotations are added to them.")
    public Map<String, String> annotations;

    @JsonPropertyDescription(
        "Labels of the Service; the Gateway's spec.infrastructure.labels are added to them.")
    public Map<String, String> labels;

    @JsonPropertyDescription(
        "Local keeps client addresses (NodePort and LoadBalancer only); Cluster when unset.")
    @SchemaFrom(type = Enums.ExternalTrafficPolicy.class)
    public String externalTrafficPolicy;

    @JsonPropertyDescription("The load balancer implementation (LoadBalancer only).")
    public String loadBalancerClass;

    @JsonPropertyDescription(
        "The client CIDRs the load balancer admits (LoadBalancer only), e.g. 10.0.0.0/8.")
    public List<String> loadBalancerSourceRanges;
  }

  /** {@code listenerDefaults}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ListenerDefaults {
    @JsonPropertyDescription("TLS settings of the HTTPS listeners (their certificates).")
    public Tls tls;
  }

  /** {@code listenerDefaults.tls}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Tls {
    @JsonPropertyDescription(
        "The TLS versions the HTTPS listeners accept: TLSv1.1, TLSv1.2, TLSv1.3 (each certificate's"
            + " ssl_protocols); the dataplane's default when unset.")
    public List<String> protocols;
  }
}
