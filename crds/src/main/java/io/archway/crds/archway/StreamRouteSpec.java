package io.archway.crds.archway;

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
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.List;

/** What a {@link StreamRoute} matches and where it sends the connections. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StreamRouteSpec {

  @JsonPropertyDescription("The ingress class that handles it; empty means the default class.")
  public String ingressClassName;

  @JsonPropertyDescription("The dataplane stream listener's port the route serves.")
  @Required
  @Min(1)
  @Max(65535)
  public Integer port;

  @JsonPropertyDescription("Which connections on that port the route takes; all when absent.")
  public Match match;

  @JsonPropertyDescription("Where connections go: a Service, or fixed nodes.")
  @Required
  public Backend backend;

  @JsonPropertyDescription("How the stream is decoded: plain tcp (default) or redis.")
  public Protocol protocol;

  /** {@code match}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Match {
    @JsonPropertyDescription("Client addresses or CIDR ranges; any when empty.")
    public List<String> remoteAddrs;

    @JsonPropertyDescription("The local address the connection arrived on, or a CIDR range.")
    public String serverAddr;
  }

  /** {@code backend}: a Service, or nodes. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Backend {
    @JsonPropertyDescription("A Service in the same namespace (or use nodes).")
    @Pattern(Schema.NAME)
    public String serviceName;

    @JsonPropertyDescription("The Service port, by number or by name.")
    public IntOrString servicePort;

    @JsonPropertyDescription("endpoint (default): the Service's pods; service: its cluster IP.")
    @SchemaFrom(type = Enums.ResolveGranularity.class)
    public String resolveGranularity;

    @JsonPropertyDescription("Fixed nodes (or use serviceName).")
    public List<Node> nodes;
  }

  /** A fixed node. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Node {
    @JsonPropertyDescription("Host name or IP address.")
    @Required
    public String host;

    @JsonPropertyDescription("Port.")
    @Required
    @Min(1)
    @Max(65535)
    public Integer port;

    @JsonPropertyDescription("Share of connections; 1 by default.")
    @Min(0)
    @Max(65535)
    public Integer weight;
  }

  /** {@code protocol}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Protocol {
    @JsonPropertyDescription(
        "tcp: bytes as they are; redis: RESP commands, with faults and loggers.")
    @Required
    @SchemaFrom(type = Enums.StreamRouteProtocol.class)
    public String name;

    @JsonPropertyDescription("Delays injected per command and key pattern (redis).")
    public List<Fault> faults;

    @JsonPropertyDescription("Whether clients share upstream connections (redis); true by default.")
    public Boolean multiplex;

    @JsonPropertyDescription("Loggers for the commands that pass their filter (redis).")
    public List<Logger> loggers;

    @JsonPropertyDescription(
        "Commands refused with an error reply, any case, e.g. [flushall, config] (redis).")
    public List<String> denyCommands;

    @JsonPropertyDescription(
        "Each client's output buffer limits, as redis's client-output-buffer-limit (redis).")
    public OutputBuffer outputBuffer;
  }

  /** {@code protocol.outputBuffer}: what a client that does not read may have waiting. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class OutputBuffer {
    @JsonPropertyDescription(
        "Over this many bytes of replies waiting the client is disconnected, e.g. 64mb.")
    public String hard;

    @JsonPropertyDescription(
        "Over this many bytes for softSeconds the client is disconnected, e.g. 16mb.")
    public String soft;

    @JsonPropertyDescription("How long a client may stay over the soft limit, in seconds.")
    @Min(0)
    public Double softSeconds;
  }

  /** A fault rule. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Fault {
    @JsonPropertyDescription("Command names, any case.")
    @Required
    public List<String> commands;

    @JsonPropertyDescription("A key glob (*, ?, [...]); every key when absent.")
    public String key;

    @JsonPropertyDescription("The delay in seconds, e.g. 0.1.")
    @Required
    @Min(0)
    public Double delay;
  }

  /** A logger. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Logger {
    @JsonPropertyDescription("The logger; syslog.")
    @Required
    public String name;

    @JsonPropertyDescription(
        "An APISIX expression on the command's variables, e.g. [[\"rpc_time\", \">=\", 0.01]].")
    @PreserveUnknownFields
    public JsonNode filter;

    @JsonPropertyDescription("The logger's settings, e.g. {host, port} for syslog.")
    @Required
    @PreserveUnknownFields
    public JsonNode conf;
  }
}
