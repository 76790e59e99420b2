package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.archway.crds.Enums;
import io.archway.crds.Schema;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.List;
import java.util.Map;

/** The settings of an {@link ApisixUpstream}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApisixUpstreamSpec extends UpstreamSettings {

  @JsonPropertyDescription("The ingress class that handles it; empty means the default class.")
  public String ingressClassName;

  @JsonPropertyDescription(
      "Nodes outside the cluster (domains, or ExternalName Services) instead of the Service's"
          + " pods.")
  public List<ExternalNode> externalNodes;

  @JsonPropertyDescription("Named groups of the Service's pods, chosen by labels.")
  public List<Subset> subsets;

  @JsonPropertyDescription("Nodes from a discovery service instead of the Service's pods.")
  public Discovery discovery;

  @JsonPropertyDescription("Settings for one Service port, over the ones above.")
  public List<PortLevelSettings> portLevelSettings;

  /** Settings for one port. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PortLevelSettings extends UpstreamSettings {
    @JsonPropertyDescription("The Service port these settings are for.")
    @Required
    @Min(1)
    @Max(65535)
    public Integer port;
  }

  /** {@code loadbalancer}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class LoadBalancer {
    /**
     * Optional: the APISIX Ingress Controller's BackendTrafficPolicy schema defaults it to
     * roundrobin (so {@code loadbalancer: {}} is valid there), and its ApisixUpstream translation
     * reads an empty type as roundrobin too.
     */
    @JsonPropertyDescription("roundrobin (the default), chash, ewma or least_conn.")
    @SchemaFrom(type = Enums.LoadBalancer.class)
    public String type;

    @JsonPropertyDescription("For chash: what the key is taken from.")
    @SchemaFrom(type = Enums.HashOn.class)
    public String hashOn;

    @JsonPropertyDescription("For chash: the variable, header or cookie name hashed.")
    public String key;
  }

  /** A node outside the cluster. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ExternalNode {
    @JsonPropertyDescription("A domain name, or the name of an ExternalName Service.")
    @Required
    public String name;

    @JsonPropertyDescription("Domain (default) or Service.")
    @SchemaFrom(type = Enums.ExternalNodeType.class)
    public String type;

    @JsonPropertyDescription("Its share of traffic; 100 by default.")
    @Min(0)
    @Max(65535)
    public Integer weight;

    @JsonPropertyDescription("The port; the scheme's default when absent.")
    @Min(1)
    @Max(65535)
    public Integer port;
  }

  /** A subset of the Service's pods. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Subset {
    @JsonPropertyDescription("The subset's name, used by a backend's subset.")
    @Required
    public String name;

    @JsonPropertyDescription("The labels pods must have.")
    @Required
    public Map<String, String> labels;
  }

  /** {@code discovery}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Discovery {
    @JsonPropertyDescription(
        "The service name in the discovery system (not for controlplane, which uses the Service's"
            + " own endpoints).")
    public String serviceName;

    @JsonPropertyDescription(
        "The discovery system, e.g. kubernetes, dns, nacos; controlplane: the operator resolves the"
            + " Service's EndpointSlices and writes the nodes into etcd, so the dataplane needs no"
            + " Kubernetes access (the operator must run with --control-plane-discovery marked or"
            + " all).")
    @Required
    public String type;

    @JsonPropertyDescription("Arguments for the discovery system.")
    @PreserveUnknownFields
    public JsonNode args;
  }

  /** A Secret by name and namespace. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretReference {
    @JsonPropertyDescription("The Secret's name.")
    @Required
    @Pattern(Schema.NAME)
    public String name;

    @JsonPropertyDescription("The Secret's namespace; the resource's by default.")
    public String namespace;
  }

  /** {@code healthCheck}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class HealthCheck {
    @JsonPropertyDescription("Probes sent to each node.")
    public Active active;

    @JsonPropertyDescription("Health judged from real traffic.")
    public Passive passive;
  }

  /** Active health checks. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Active {
    @JsonPropertyDescription("http (default), https or tcp.")
    @SchemaFrom(type = Enums.HealthCheckType.class)
    public String type;

    /**
     * An integer or a duration string. The APISIX Ingress Controller's schema has a Go {@code
     * time.Duration} here: an integer of nanoseconds, often beyond 32 bits ({@code 5000000000} is
     * 5s), so it is held as a JSON node (the schema stays int-or-string). Integers of at least one
     * second's worth of nanoseconds are read as the controller reads them; smaller ones are
     * seconds, as Archway read them before (the controller sends 0 for them, so APISIX's 1s
     * default). A string is a duration such as {@code 1s}; the translation checks either.
     */
    @JsonPropertyDescription(
        "Probe timeout: nanoseconds as the APISIX Ingress Controller writes it (5000000000),"
            + " seconds below one second's worth of nanoseconds (5), or a duration (5s, 500ms).")
    @SchemaFrom(type = io.fabric8.kubernetes.api.model.IntOrString.class)
    public JsonNode timeout;

    @JsonPropertyDescription("Probes run at once.")
    @Min(0)
    public Integer concurrency;

    @JsonPropertyDescription("The Host header of HTTP probes.")
    public String host;

    /** 0, the APISIX Ingress Controller's unset value, is the node's port as when absent. */
    @JsonPropertyDescription("The port probed; the node's by default (also when 0).")
    @Min(0)
    @Max(65535)
    public Integer port;

    @JsonPropertyDescription("The path of HTTP probes; / by default.")
    public String httpPath;

    @JsonPropertyDescription("Whether https probes verify the certificate.")
    public Boolean strictTLS;

    @JsonPropertyDescription("Extra headers of HTTP probes, \"Name: value\".")
    public List<String> requestHeaders;

    @JsonPropertyDescription("When a node counts as healthy.")
    public ActiveHealthy healthy;

    @JsonPropertyDescription("When a node counts as unhealthy.")
    public ActiveUnhealthy unhealthy;
  }

  /** {@code active.healthy}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ActiveHealthy extends PassiveHealthy {
    @JsonPropertyDescription("Time between probes of a healthy node, e.g. 1s.")
    @Pattern(Schema.DURATION)
    public String interval;
  }

  /** {@code active.unhealthy}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ActiveUnhealthy extends PassiveUnhealthy {
    @JsonPropertyDescription("Time between probes of an unhealthy node, e.g. 1s.")
    @Pattern(Schema.DURATION)
    public String interval;
  }

  /** Passive health checks. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Passive {
    @JsonPropertyDescription("http (default), https or tcp.")
    @SchemaFrom(type = Enums.HealthCheckType.class)
    public String type;

    @JsonPropertyDescription("When a node counts as healthy again.")
    public PassiveHealthy healthy;

    @JsonPropertyDescription("When a node counts as unhealthy.")
    public PassiveUnhealthy unhealthy;
  }

  /** {@code passive.healthy}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PassiveHealthy {
    @JsonPropertyDescription("Status codes of a healthy answer.")
    public List<Integer> httpCodes;

    /** 0, the APISIX Ingress Controller's unset value, is APISIX's default as when absent. */
    @JsonPropertyDescription(
        "Healthy answers in a row that make a node healthy; APISIX's default when 0 or absent.")
    @Min(0)
    @Max(254)
    public Integer successes;
  }

  /** {@code passive.unhealthy}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PassiveUnhealthy {
    @JsonPropertyDescription("Status codes of an unhealthy answer.")
    public List<Integer> httpCodes;

    /** 0, the APISIX Ingress Controller's unset value, is APISIX's default as when absent. */
    @JsonPropertyDescription(
        "HTTP failures in a row that make a node unhealthy; APISIX's default when 0 or absent.")
    @Min(0)
    @Max(254)
    public Integer httpFailures;

    /** 0, the APISIX Ingress Controller's unset value, is APISIX's default as when absent. */
    @JsonPropertyDescription(
        "TCP failures in a row that make a node unhealthy; APISIX's default when 0 or absent.")
    @Min(0)
    @Max(254)
    public Integer tcpFailures;

    /** 0, the APISIX Ingress Controller's unset value, is APISIX's default as when absent. */
    @JsonPropertyDescription(
        "Timeouts in a row that make a node unhealthy; APISIX's default when 0 or absent.")
    @Min(0)
    @Max(254)
    public Integer timeouts;

    /**
     * The same count under the name the APISIX Ingress Controller gives it ({@code timeout}); one
     * of the two, or both equal; 0 is unset, as there.
     */
    @JsonPropertyDescription(
        "Timeouts in a row that make a node unhealthy (the APISIX Ingress"
            + " Controller's name for timeouts).")
    @Min(0)
    @Max(254)
    public Integer timeout;
  }
}
