package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Enums;
import io.archway.crds.Plugin;
import io.archway.crds.Timeout;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.List;

/** What an {@link ApisixRoute} routes: HTTP rules and stream rules. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApisixRouteSpec {

  @JsonPropertyDescription(
      "The ingress class that handles this route; empty means the operator's default class.")
  public String ingressClassName;

  @JsonPropertyDescription("HTTP rules, each one route in the dataplane.")
  public List<Http> http;

  @JsonPropertyDescription("TCP rules, each one stream route in the dataplane.")
  public List<Stream> stream;

  /** One HTTP rule. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Http {

    /**
     * Any non-empty string, as in the APISIX Ingress Controller's schema (no pattern there); route
     * ids made from it are hashed when it has other characters or is long.
     */
    @JsonPropertyDescription("The rule's name, unique within the ApisixRoute.")
    @Required
    public String name;

    @JsonPropertyDescription(
        "Which rule wins when several match the same request; higher first. Default 0.")
    public Integer priority;

    @JsonPropertyDescription("Timeouts towards the backends.")
    public Timeout timeout;

    /**
     * Optional in the schema as in the APISIX Ingress Controller's; the translation refuses a rule
     * without it (or without paths), which the controller cannot sync either.
     */
    @JsonPropertyDescription("What requests the rule matches (paths are needed).")
    public Match match;

    @JsonPropertyDescription(
        "Services the rule proxies to; with several, traffic is split by their weights.")
    public List<Backend> backends;

    @JsonPropertyDescription(
        "ApisixUpstreams with externalNodes the rule proxies to, split by weight with the"
            + " backends.")
    public List<UpstreamRef> upstreams;

    @JsonPropertyDescription("Whether WebSocket upgrades are proxied.")
    public Boolean websocket;

    @JsonProperty("plugin_config_name")
    @JsonPropertyDescription("An ApisixPluginConfig whose plugins the rule also runs.")
    public String pluginConfigName;

    @JsonProperty("plugin_config_namespace")
    @JsonPropertyDescription("The ApisixPluginConfig's namespace; the route's by default.")
    public String pluginConfigNamespace;

    @JsonPropertyDescription("Plugins the rule runs, in APISIX's phase and priority order.")
    public List<Plugin> plugins;

    @JsonPropertyDescription(
        "A PluginFlow in the same namespace: the plugins run as that DAG (Archway's addition).")
    @Pattern(io.archway.crds.Schema.NAME)
    public String pluginFlow;

    @JsonPropertyDescription("Consumer authentication for the rule.")
    public Authentication authentication;
  }

  /** The request properties a rule matches on. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Match {

    @JsonPropertyDescription("Paths: exact (/a/b), prefix (/a/*) or with parameters (/user/:id).")
    @Required
    public List<String> paths;

    @JsonPropertyDescription("HTTP methods; all when empty.")
    public List<String> methods;

    @JsonPropertyDescription("Host names, exact or with a leading wildcard (*.example.com).")
    public List<String> hosts;

    @JsonPropertyDescription("Client addresses or CIDR ranges.")
    public List<String> remoteAddrs;

    @JsonPropertyDescription("Conditions on headers, query arguments, cookies and variables.")
    public List<Expr> exprs;

    @JsonProperty("filter_func")
    @JsonPropertyDescription("A Lua function in APISIX; not supported by Archway (use exprs).")
    public String filterFunc;
  }

  /** One condition of {@code match.exprs}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Expr {

    @JsonPropertyDescription("What the condition looks at.")
    @Required
    public Subject subject;

    @JsonPropertyDescription("The comparison.")
    @Required
    @SchemaFrom(type = Enums.ExprOp.class)
    public String op;

    @JsonPropertyDescription("The value compared with (all ops but In and NotIn).")
    public String value;

    @JsonPropertyDescription("The values for In and NotIn.")
    public List<String> set;
  }

  /** What an expression looks at. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Subject {

    @JsonPropertyDescription("Where the value comes from.")
    @Required
    @SchemaFrom(type = Enums.ExprScope.class)
    public String scope;

    @JsonPropertyDescription("The header, argument, cookie or variable name (not for Path).")
    public String name;
  }

  /** A Service the rule proxies to. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Backend extends StreamBackend {

    @JsonPropertyDescription("The share of traffic for this backend when there are several.")
    @Min(0)
    @Max(65535)
    public Integer weight;
  }

  /** An ApisixUpstream the rule proxies to. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class UpstreamRef {

    @JsonPropertyDescription("The ApisixUpstream, in the route's namespace.")
    @Required
    public String name;

    @JsonPropertyDescription("Its share of traffic.")
    @Min(0)
    @Max(65535)
    public Integer weight;
  }

  /** Consumer authentication for a rule. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Authentication {

    @JsonPropertyDescription("Whether the rule authenticates consumers.")
    @Required
    public Boolean enable;

    @JsonPropertyDescription("The authentication plugin.")
    @SchemaFrom(type = Enums.AuthType.class)
    public String type;

    @JsonPropertyDescription("keyAuth settings.")
    public KeyAuth keyAuth;

    @JsonPropertyDescription("jwtAuth settings.")
    public JwtAuth jwtAuth;

    @JsonPropertyDescription("ldapAuth settings.")
    public LdapAuth ldapAuth;
  }

  /** {@code keyAuth}: where the key is read from. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class KeyAuth {
    @JsonPropertyDescription("The header carrying the key; apikey by default.")
    public String header;
  }

  /** {@code jwtAuth}: where the token is read from. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class JwtAuth {
    @JsonPropertyDescription("The header carrying the token.")
    public String header;

    @JsonPropertyDescription("The query argument carrying the token.")
    public String query;

    @JsonPropertyDescription("The cookie carrying the token.")
    public String cookie;
  }

  /** {@code ldapAuth}: the directory to check against. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class LdapAuth {
    @JsonProperty("ldap_uri")
    @JsonPropertyDescription("The directory, host:port.")
    public String ldapUri;

    @JsonProperty("base_dn")
    @JsonPropertyDescription("The base DN of users.")
    public String baseDn;

    @JsonProperty("use_tls")
    @JsonPropertyDescription("Whether to use TLS.")
    public Boolean useTls;

    @JsonPropertyDescription("The attribute holding the user name; cn by default.")
    public String uid;
  }

  /** One TCP rule. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Stream {

    @JsonPropertyDescription("The rule's name, unique within the ApisixRoute.")
    @Required
    public String name;

    @JsonPropertyDescription("TCP (UDP is not proxied by Archway).")
    @Required
    @SchemaFrom(type = Enums.StreamProtocol.class)
    public String protocol;

    @JsonPropertyDescription("What connections the rule matches.")
    @Required
    public StreamMatch match;

    @JsonPropertyDescription("The Service connections go to.")
    @Required
    public StreamBackend backend;

    @JsonPropertyDescription("Stream plugins.")
    public List<Plugin> plugins;
  }

  /** What a stream rule matches. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class StreamMatch {
    @JsonPropertyDescription("The dataplane's listening port the connection arrived on.")
    @Required
    @Min(1)
    @Max(65535)
    public Integer ingressPort;

    @JsonPropertyDescription("The TLS server name (SNI) of the connection.")
    public String host;
  }

  /** The Service of a stream rule, and what every Service backend has. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class StreamBackend {
    @JsonPropertyDescription("The Service, in the route's namespace.")
    @Required
    @Pattern(io.archway.crds.Schema.NAME)
    public String serviceName;

    @JsonPropertyDescription("The Service port, by number or by name.")
    @Required
    public IntOrString servicePort;

    @JsonPropertyDescription(
        "endpoint (default): the pods behind the Service, watched by the dataplane; service: the"
            + " Service's cluster IP.")
    @SchemaFrom(type = Enums.ResolveGranularity.class)
    public String resolveGranularity;

    @JsonPropertyDescription("A subset from the Service's ApisixUpstream (pods by labels).")
    public String subset;
  }
}
