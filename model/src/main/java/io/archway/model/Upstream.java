package io.archway.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An upstream as APISIX stores it under {@code /apisix/upstreams/<id>}, and inline in routes,
 * services and stream routes (then without {@code id}). Fields hold what was written, {@code null}
 * when absent, so the object serialises back unchanged; {@link #withDefaults()} applies APISIX's
 * defaults. {@code _discovery_type} and {@code _service_name} are apisix-seed's marks on nodes a
 * control plane resolved from a registry (the operator writes them so too): where the nodes come
 * from, kept as written; the nodes are what is served.
 */
public record Upstream(
    String id,
    String name,
    String desc,
    String type,
    UpstreamNodes nodes,
    String serviceName,
    String discoveryType,
    ObjectNode discoveryArgs,
    String hashOn,
    String key,
    HealthChecks checks,
    Integer retries,
    Double retryTimeout,
    List<Integer> retryOnStatus,
    Double retryBackoff,
    Timeout timeout,
    String scheme,
    Boolean http2,
    String passHost,
    String upstreamHost,
    KeepalivePool keepalivePool,
    Tls tls,
    Map<String, String> labels,
    SessionPersistence sessionPersistence,
    Long createTime,
    Long updateTime,
    @JsonProperty("_discovery_type") String resolvedDiscoveryType,
    @JsonProperty("_service_name") String resolvedServiceName)
    implements ConfigObject {

  public static final String DEFAULT_TYPE = "roundrobin";
  public static final String DEFAULT_HASH_ON = "vars";

  /**
   * A discovery type whose nodes a control plane writes into the object (Archway's operator in seed
   * mode, or apisix-seed): the dataplane serves the {@code nodes} it holds, none (503) until then.
   */
  public static final String ZOOKEEPER = "zookeeper";

  /**
   * The request variables a chash upstream with {@code hash_on: vars} can hash on: those the
   * dataplane's request variables give ({@code route/RequestVars.get}), plus the prefixed families.
   * A name outside them would hash every request on nothing, so it is refused, as APISIX's schema
   * refuses it.
   */
  static final List<String> HASH_VARIABLES =
      List.of(
          "uri",
          "request_uri",
          "host",
          "request_method",
          "remote_addr",
          "remote_port",
          "server_port",
          "scheme",
          "args",
          "query_string");

  static boolean hashVariable(String key) {
    return HASH_VARIABLES.contains(key)
        || STREAM_HASH_VARIABLES.contains(key)
        || (key.matches("(arg|http|cookie)_[A-Za-z0-9_-]+"));
  }

  /**
   * Hash keys a stream plugin sets ({@code mqtt_client_id}, by mqtt-proxy); elsewhere, as in
   * APISIX, the variable is empty and the client address is hashed instead.
   */
  static final List<String> STREAM_HASH_VARIABLES = List.of("mqtt_client_id");

  /**
   * The discovery types accepted: those the dataplane finds nodes with ({@code kubernetes}, {@code
   * dns}), and {@code zookeeper}, whose nodes a control plane writes. APISIX's others (nacos,
   * eureka, consul, consul_kv) would leave the upstream without nodes, so they are refused by name.
   */
  static final Fields.Check DISCOVERY_TYPE =
      v ->
          "kubernetes".equals(v) || "dns".equals(v) || ZOOKEEPER.equals(v)
              ? null
              : "kubernetes or dns, the discovery types Archway supports, or zookeeper (its nodes"
                  + " written by a control plane: Archway's operator or apisix-seed); nacos,"
                  + " eureka, consul and consul_kv would leave the upstream without nodes";

  public static final String DEFAULT_SCHEME = "http";
  public static final String DEFAULT_PASS_HOST = "pass";

  // "none" is what APISIX's own pub-sub and xRPC examples write (APISIX does not check the type,
  // and a single node needs no balancer); it is served as roundrobin.
  private static final Fields.Check TYPE =
      Fields.Check.oneOf("roundrobin", "chash", "ewma", "least_conn", "none");
  private static final Fields.Check HASH_ON =
      Fields.Check.oneOf("vars", "header", "cookie", "consumer", "vars_combinations");
  private static final Fields.Check SCHEME =
      Fields.Check.oneOf("http", "https", "grpc", "grpcs", "tcp", "tls", "udp", "kafka");
  private static final Fields.Check PASS_HOST = Fields.Check.oneOf("pass", "node", "rewrite");

  public Upstream withDefaults() {
    return new Upstream(
        id,
        name,
        desc,
        type == null ? DEFAULT_TYPE : type,
        nodes,
        serviceName,
        discoveryType,
        discoveryArgs,
        hashOn == null ? DEFAULT_HASH_ON : hashOn,
        key,
        checks == null ? null : checks.withDefaults(),
        retries,
        retryTimeout,
        retryOnStatus,
        retryBackoff,
        timeout,
        scheme == null ? DEFAULT_SCHEME : scheme,
        http2,
        passHost == null ? DEFAULT_PASS_HOST : passHost,
        upstreamHost,
        keepalivePool == null ? KeepalivePool.DEFAULT : keepalivePool.withDefaults(),
        tls,
        labels,
        sessionPersistence == null ? null : sessionPersistence.withDefaults(),
        createTime,
        updateTime,
        resolvedDiscoveryType,
        resolvedServiceName);
  }

  /** This upstream with {@code tls} (a client certificate found by id, say). */
  public Upstream withTls(Tls tls) {
    return with(nodes, tls);
  }

  /** This upstream with {@code nodes} (for discovery, which finds the nodes at run time). */
  public Upstream withNodes(UpstreamNodes nodes) {
    return with(nodes, tls);
  }

  private Upstream with(UpstreamNodes nodes, Tls tls) {
    return new Upstream(
        id,
        name,
        desc,
        type,
        nodes,
        serviceName,
        discoveryType,
        discoveryArgs,
        hashOn,
        key,
        checks,
        retries,
        retryTimeout,
        retryOnStatus,
        retryBackoff,
        timeout,
        scheme,
        http2,
        passHost,
        upstreamHost,
        keepalivePool,
        tls,
        labels,
        sessionPersistence,
        createTime,
        updateTime,
        resolvedDiscoveryType,
        resolvedServiceName);
  }

  static Upstream read(Fields f, String path) {
    var up =
        new Upstream(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.string("type", TYPE),
            UpstreamNodes.read(f, "nodes"),
            f.string("service_name", Fields.Check.length(1, 256)),
            f.string("discovery_type", DISCOVERY_TYPE),
            f.object("discovery_args"),
            f.string("hash_on", HASH_ON),
            f.string("key", Fields.Check.length(1, 256)),
            f.child("checks", HealthChecks::read),
            f.integer("retries", 0, Integer.MAX_VALUE),
            f.number("retry_timeout", 0, false),
            f.integers("retry_on_status", 400, 599),
            f.number("retry_backoff", 0, false),
            f.child("timeout", Timeout::read),
            f.string("scheme", SCHEME),
            f.bool("http2"),
            f.string("pass_host", PASS_HOST),
            f.string("upstream_host", Addresses.HOST_NAME),
            f.child("keepalive_pool", KeepalivePool::read),
            f.child("tls", Tls::read),
            f.labels("labels"),
            f.child("session_persistence", SessionPersistence::read),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0),
            f.string("_discovery_type", Fields.Check.length(1, 64)),
            f.string("_service_name", Fields.Check.length(1, 256)));
    if (f.has("nodes") == f.has("service_name")) {
      f.problem(
          (f.has("nodes")
                  ? "nodes and service_name both set"
                  : "nodes and service_name both missing")
              + " (expected: exactly one of them)");
    }
    if (f.has("service_name") && !f.has("discovery_type")) {
      f.problem("discovery_type", "missing (expected: set with service_name, e.g. kubernetes)");
    }
    if ("chash".equals(up.type) && !"consumer".equals(up.hashOn) && !f.has("key")) {
      f.problem("key", "missing (expected: the hash key when type is chash)");
    }
    if ("chash".equals(up.type)
        && (up.hashOn == null || DEFAULT_HASH_ON.equals(up.hashOn))
        && up.key != null
        && !hashVariable(up.key)) {
      f.problem(
          "key",
          Fields.show(f.raw("key"))
              + " is not a request variable (expected, for hash_on vars: a variable name without"
              + " $: "
              + String.join(", ", HASH_VARIABLES)
              + ", or arg_<name>, http_<header>, cookie_<name>; on stream routes with mqtt-proxy,"
              + " mqtt_client_id)");
    }
    if (Boolean.TRUE.equals(up.http2)
        && up.scheme != null
        && !List.of("http", "https", "grpc", "grpcs").contains(up.scheme)) {
      f.problem(
          "http2",
          "true with scheme " + up.scheme + " (expected: scheme http (h2c) or https (h2 by ALPN))");
    }
    if ("rewrite".equals(up.passHost) && !f.has("upstream_host")) {
      f.problem("upstream_host", "missing (expected: set when pass_host is rewrite)");
    }
    return up;
  }

  /**
   * {@code session_persistence}, Archway's addition: requests of one client session go to the node
   * that served the session's first request, while it is in the upstream and healthy. The gateway
   * names the node in a cookie ({@code type: cookie}) or a response header the client sends back
   * ({@code type: header}), called {@code name}; the session ends {@code absolute_timeout} seconds
   * after it began, or {@code idle_timeout} seconds after its last request. {@code lifetime}:
   * {@code session} cookies end with the browser session, {@code permanent} ones carry Max-Age.
   */
  public record SessionPersistence(
      String type, String name, Double absoluteTimeout, Double idleTimeout, String lifetime) {

    public static final String DEFAULT_TYPE = "cookie";
    public static final String DEFAULT_LIFETIME = "session";

    private static final Fields.Check TYPES = Fields.Check.oneOf("cookie", "header");
    private static final Fields.Check LIFETIMES = Fields.Check.oneOf("session", "permanent");
    // A cookie name or header field name: an RFC 9110 token.
    private static final Fields.Check TOKEN =
        Fields.Check.pattern(Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$"));

    public SessionPersistence withDefaults() {
      return new SessionPersistence(
          type == null ? DEFAULT_TYPE : type,
          name,
          absoluteTimeout,
          idleTimeout,
          lifetime == null ? DEFAULT_LIFETIME : lifetime);
    }

    static SessionPersistence read(Fields f, String path) {
      var sp =
          new SessionPersistence(
              f.string("type", TYPES),
              f.requiredString("name", TOKEN),
              f.number("absolute_timeout", 0, true),
              f.number("idle_timeout", 0, true),
              f.string("lifetime", LIFETIMES));
      if ("header".equals(sp.type) && f.has("lifetime")) {
        f.problem("lifetime", "set with type header (expected: only for cookies)");
      }
      return sp;
    }
  }

  /** {@code keepalive_pool}: idle connections kept per node. */
  public record KeepalivePool(Integer size, Double idleTimeout, Integer requests) {

    public static final KeepalivePool DEFAULT = new KeepalivePool(320, 60.0, 1000);

    public KeepalivePool withDefaults() {
      return new KeepalivePool(
          size == null ? DEFAULT.size : size,
          idleTimeout == null ? DEFAULT.idleTimeout : idleTimeout,
          requests == null ? DEFAULT.requests : requests);
    }

    static KeepalivePool read(Fields f, String path) {
      return new KeepalivePool(
          f.integer("size", 1, Integer.MAX_VALUE),
          f.number("idle_timeout", 0, false),
          f.integer("requests", 1, Integer.MAX_VALUE));
    }
  }

  /**
   * TLS towards the nodes: a client certificate (inline, or an {@code ssls} object of type client
   * by id), and whether to verify the nodes' certificates. Archway's additions (APISIX verifies
   * against one global bundle and derives the server name from the host): {@code ca}, the
   * authorities to verify against instead of the JVM's; {@code sni}, the server name to send;
   * {@code subject_alt_names}, the names one of which the node's certificate must carry (in place
   * of the check of its name against the host; SPIFFE identities are URI names); {@code alpn}, the
   * protocols offered; {@code match_node_metadata}, TLS only to the nodes whose {@code metadata}
   * holds these entries, plain to the others (Istio's {@code tlsMode: istio}).
   */
  public record Tls(
      String clientCert,
      String clientKey,
      String clientCertId,
      Boolean verify,
      String ca,
      String sni,
      List<SubjectAltName> subjectAltNames,
      List<String> alpn,
      Map<String, String> matchNodeMetadata) {

    /** The APISIX fields only (client certificate, verification, authorities). */
    public Tls(
        String clientCert, String clientKey, String clientCertId, Boolean verify, String ca) {
      this(clientCert, clientKey, clientCertId, verify, ca, null, null, null, null);
    }

    @Override
    public String toString() {
      // Never print the private key.
      return "Tls[client_cert="
          + (clientCert != null)
          + ", client_cert_id="
          + clientCertId
          + ", verify="
          + verify
          + ", ca="
          + (ca != null)
          + ", sni="
          + sni
          + ", subject_alt_names="
          + subjectAltNames
          + ", alpn="
          + alpn
          + ", match_node_metadata="
          + matchNodeMetadata
          + "]";
    }

    /** With the client certificate and key given inline (a {@code client_cert_id} resolved). */
    public Tls withClientCertificate(String cert, String key) {
      return new Tls(cert, key, null, verify, ca, sni, subjectAltNames, alpn, matchNodeMetadata);
    }

    /** Whether TLS goes to a node with this {@code metadata} ({@code match_node_metadata}). */
    public boolean appliesTo(ObjectNode metadata) {
      if (matchNodeMetadata == null) {
        return true;
      }
      for (var e : matchNodeMetadata.entrySet()) {
        var v = metadata == null ? null : metadata.get(e.getKey());
        if (v == null || !v.isTextual() || !v.textValue().equals(e.getValue())) {
          return false;
        }
      }
      return true;
    }

    static Tls read(Fields f, String path) {
      var tls =
          new Tls(
              f.string("client_cert", Pem.CERTIFICATE),
              f.secret("client_key", Pem.PRIVATE_KEY),
              f.id("client_cert_id"),
              f.bool("verify"),
              f.string("ca", Pem.CERTIFICATE),
              f.string("sni", Fields.Check.length(1, 253), Addresses.HOST_NAME),
              f.children("subject_alt_names", SubjectAltName::read),
              f.strings("alpn", 1, true, Fields.Check.length(1, 255)),
              stringMap(f, "match_node_metadata"));
      if (f.has("client_cert") != f.has("client_key")) {
        f.problem("client_cert and client_key go together (expected: both or neither)");
      }
      if (f.has("client_cert") && f.has("client_cert_id")) {
        f.problem("client_cert and client_cert_id both set (expected: one of them)");
      }
      if (f.has("subject_alt_names") && !Boolean.TRUE.equals(tls.verify)) {
        f.problem(
            "subject_alt_names",
            "set without verify: true (expected: verify: true, the names are checked on a"
                + " verified certificate)");
      }
      return tls;
    }

    private static Map<String, String> stringMap(Fields f, String name) {
      var o = f.object(name);
      if (o == null) {
        return null;
      }
      var out = new java.util.TreeMap<String, String>();
      for (var e : o.properties()) {
        if (!e.getValue().isTextual()) {
          f.problem(name + "." + e.getKey(), Fields.show(e.getValue()) + " (expected: string)");
          return null;
        }
        out.put(e.getKey(), e.getValue().textValue());
      }
      if (out.isEmpty()) {
        f.problem(name, "{} (expected: at least one entry)");
        return null;
      }
      return Map.copyOf(out);
    }
  }

  /**
   * One name a node's certificate may carry ({@code tls.subject_alt_names[]}): {@code exact} or
   * {@code prefix}, of the given {@code type} ({@code uri}, {@code dns}, {@code email}, {@code ip};
   * any type when unset).
   */
  public record SubjectAltName(String type, String exact, String prefix) {

    private static final Fields.Check TYPES = Fields.Check.oneOf("uri", "dns", "email", "ip");

    /** Whether {@code value}, a name of the certificate of this {@code type}, matches. */
    public boolean matches(String valueType, String value) {
      if (type != null && !type.equals(valueType)) {
        return false;
      }
      return exact != null ? exact.equals(value) : value.startsWith(prefix);
    }

    static SubjectAltName read(Fields f, String path) {
      var san =
          new SubjectAltName(
              f.string("type", TYPES),
              f.string("exact", Fields.Check.length(1, 2048)),
              f.string("prefix", Fields.Check.length(1, 2048)));
      f.exactlyOne("exact", "prefix");
      return san;
    }
  }
}
