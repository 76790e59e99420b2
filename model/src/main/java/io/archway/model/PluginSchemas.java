package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * The plugins Archway knows, by APISIX's names, and the schemas of their configurations: the
 * operator checks a resource's plugins with it when it translates, the dataplane when it compiles.
 *
 * <p>A plugin with a schema here is read strictly: a field the schema does not name is reported (a
 * misspelt {@code rejected_cod} is an error, not a silently ignored setting). The few plugins whose
 * APISIX schema grows with every release (the {@code redis_*} settings of the rate limiters) are
 * checked on the fields that matter and let the rest through. Every plugin here is one the
 * dataplane runs; the other APISIX plugins are known by name only, so that naming one gets "not run
 * by Archway" rather than "unknown plugin".
 */
public final class PluginSchemas {

  private PluginSchemas() {}

  /** A plugin's schema: reads its fields from {@code f}; {@code strict} reports unknown ones. */
  private record Schema(boolean strict, BiConsumer<Fields, String> reader) {}

  private static final Fields.Check HTTP_METHOD =
      Fields.Check.oneOf(Route.METHODS.toArray(String[]::new));
  private static final Fields.Check KEY_TYPE =
      Fields.Check.oneOf("var", "var_combination", "constant");
  private static final Fields.Check POLICY = Fields.Check.oneOf("local", "redis", "redis-cluster");

  private static final Map<String, Schema> SCHEMAS =
      Map.ofEntries(
          Map.entry("proxy-rewrite", strict(PluginSchemas::proxyRewrite)),
          Map.entry("redirect", strict(PluginSchemas::redirect)),
          Map.entry("cors", strict(PluginSchemas::cors)),
          Map.entry("ip-restriction", strict(PluginSchemas::ipRestriction)),
          Map.entry("key-auth", strict(PluginSchemas::keyAuth)),
          Map.entry("basic-auth", strict((f, p) -> f.bool("hide_credentials"))),
          Map.entry("jwt-auth", strict(PluginSchemas::jwtAuth)),
          Map.entry("limit-count", loose(PluginSchemas::limitCount)),
          Map.entry("limit-req", loose(PluginSchemas::limitReq)),
          Map.entry("limit-conn", loose(PluginSchemas::limitConn)),
          Map.entry("response-rewrite", strict(PluginSchemas::responseRewrite)),
          Map.entry("fault-injection", strict(PluginSchemas::faultInjection)),
          Map.entry("echo", strict(PluginSchemas::echo)),
          Map.entry("request-id", strict(PluginSchemas::requestId)),
          Map.entry("traffic-split", strict(PluginSchemas::trafficSplit)),
          Map.entry("prometheus", strict((f, p) -> f.bool("prefer_name"))),
          Map.entry("kafka-proxy", strict(PluginSchemas::kafkaProxy)),
          Map.entry("http-logger", strict(PluginSchemas::httpLogger)),
          Map.entry("kafka-logger", strict(PluginSchemas::kafkaLogger)));

  /** APISIX plugins accepted by name, their configuration taken as it is. */
  private static final Set<String> BY_NAME =
      Set.of(
          "real-ip",
          "client-control",
          "proxy-control",
          "request-validation",
          "gzip",
          "brotli",
          "uri-blocker",
          "ua-restriction",
          "referer-restriction",
          "consumer-restriction",
          "openid-connect",
          "authz-keycloak",
          "hmac-auth",
          "ldap-auth",
          "wolf-rbac",
          "forward-auth",
          "multi-auth",
          "opa",
          "csrf",
          "proxy-cache",
          "proxy-mirror",
          "api-breaker",
          "tcp-logger",
          "udp-logger",
          "syslog",
          "file-logger",
          "zipkin",
          "skywalking",
          "opentelemetry",
          "grpc-transcode",
          "grpc-web",
          "body-transformer",
          "mocking",
          "workflow",
          "serverless-pre-function",
          "serverless-post-function",
          "ext-plugin-pre-req",
          "ext-plugin-post-req",
          "ext-plugin-post-resp");

  /** Every plugin name Archway knows, sorted. */
  public static Set<String> names() {
    var all = new TreeSet<>(SCHEMAS.keySet());
    all.addAll(BY_NAME);
    return all;
  }

  public static boolean known(String name) {
    return SCHEMAS.containsKey(name) || BY_NAME.contains(name);
  }

  /** Whether the dataplane runs plugin {@code name} (the others are known by name only). */
  public static boolean runs(String name) {
    return SCHEMAS.containsKey(name);
  }

  /**
   * The problems of {@code conf} as the configuration of plugin {@code name}, each with a path
   * under {@code path} (e.g. {@code plugins.limit-count}); empty when it is valid.
   */
  public static List<Problem> check(String name, JsonNode conf, String path) {
    var problems = new ArrayList<Problem>();
    if (!known(name)) {
      problems.add(
          new Problem(path, "unknown plugin \"" + name + "\" (expected: a plugin Archway runs)"));
      return problems;
    }
    if (!runs(name)) {
      // An APISIX plugin the dataplane does not run: a route with it would be refused there, so
      // it is refused here too rather than accepted and then silently not served.
      problems.add(
          new Problem(
              path,
              "APISIX plugin \""
                  + name
                  + "\" is not run by Archway (expected: one of "
                  + String.join(", ", new TreeSet<>(SCHEMAS.keySet()))
                  + ")"));
      return problems;
    }
    var f = Fields.of(conf, path, problems);
    var schema = SCHEMAS.get(name);
    if (schema == null || !problems.isEmpty()) {
      return problems;
    }
    f.raw("_meta"); // APISIX's per-plugin meta (disable, priority, filter) is allowed everywhere
    schema.reader().accept(f, path);
    if (schema.strict()) {
      f.finish();
    }
    return problems;
  }

  private static Schema strict(BiConsumer<Fields, String> reader) {
    return new Schema(true, reader);
  }

  private static Schema loose(BiConsumer<Fields, String> reader) {
    return new Schema(false, reader);
  }

  private static void proxyRewrite(Fields f, String path) {
    f.string("uri", Route.URI);
    f.string("method", HTTP_METHOD);
    var regex = f.strings("regex_uri", 2, false);
    if (regex != null && regex.size() % 2 != 0) {
      f.problem("regex_uri", "odd number of items (expected: pairs of [regex, replacement])");
    }
    if (regex != null) {
      for (int i = 0; i < regex.size(); i += 2) {
        checkRegex(f, "regex_uri[" + i + "]", regex.get(i));
      }
    }
    f.string("host", Fields.Check.length(1, 253));
    f.object("headers");
    f.bool("use_real_request_uri_unsafe");
  }

  private static void redirect(Fields f, String path) {
    f.bool("http_to_https");
    f.string("uri", Fields.Check.length(1, 4096));
    var regex = f.strings("regex_uri", 2, false);
    if (regex != null) {
      checkRegex(f, "regex_uri[0]", regex.get(0));
    }
    f.integer("ret_code", 200, 599);
    f.bool("encode_uri");
    f.bool("append_query_string");
    int set =
        (f.has("http_to_https") ? 1 : 0) + (f.has("uri") ? 1 : 0) + (f.has("regex_uri") ? 1 : 0);
    if (set != 1) {
      f.problem("expected exactly one of http_to_https, uri, regex_uri");
    }
  }

  private static void cors(Fields f, String path) {
    f.string("allow_origins", Fields.Check.length(1, 4096));
    f.string("allow_methods", Fields.Check.length(1, 1024));
    f.string("allow_headers", Fields.Check.length(1, 4096));
    f.string("expose_headers", Fields.Check.length(1, 4096));
    f.integer("max_age", -1, Integer.MAX_VALUE);
    f.bool("allow_credential");
    var regexes = f.strings("allow_origins_by_regex", 1, true);
    if (regexes != null) {
      for (int i = 0; i < regexes.size(); i++) {
        checkRegex(f, "allow_origins_by_regex[" + i + "]", regexes.get(i));
      }
    }
    f.strings("allow_origins_by_metadata", 1, true);
    f.string("timing_allow_origins", Fields.Check.length(1, 4096));
    f.strings("timing_allow_origins_by_regex", 1, true);
  }

  private static void ipRestriction(Fields f, String path) {
    f.strings("whitelist", 1, true, Addresses.IP_OR_CIDR);
    f.strings("blacklist", 1, true, Addresses.IP_OR_CIDR);
    f.string("message", Fields.Check.length(1, 1024));
    f.integer("response_code", 403, 404);
    f.exactlyOne("whitelist", "blacklist");
  }

  private static void keyAuth(Fields f, String path) {
    f.string("header", Fields.Check.length(1, 256));
    f.string("query", Fields.Check.length(1, 256));
    f.bool("hide_credentials");
  }

  private static void jwtAuth(Fields f, String path) {
    f.string("header", Fields.Check.length(1, 256));
    f.string("query", Fields.Check.length(1, 256));
    f.string("cookie", Fields.Check.length(1, 256));
    f.bool("hide_credentials");
    f.string("key_claim_name", Fields.Check.length(1, 256));
    f.bool("store_in_ctx");
  }

  private static void rateLimitCommon(Fields f) {
    f.string("key_type", KEY_TYPE);
    f.string("key", Fields.Check.length(1, 1024));
    f.integer("rejected_code", 200, 599);
    f.string("rejected_msg", Fields.Check.length(1, 4096));
    f.bool("allow_degradation");
    f.string("policy", POLICY);
  }

  private static void limitCount(Fields f, String path) {
    f.integer("count", 1, Integer.MAX_VALUE);
    f.required("count", "integer > 0");
    f.integer("time_window", 1, Integer.MAX_VALUE);
    f.required("time_window", "integer > 0, seconds");
    f.bool("show_limit_quota_header");
    f.string("group", Fields.Check.length(1, 256));
    rateLimitCommon(f);
  }

  private static void limitReq(Fields f, String path) {
    f.number("rate", 0, true);
    f.required("rate", "number > 0, requests per second");
    f.number("burst", 0, false);
    f.required("burst", "number >= 0");
    f.required("key", "string, e.g. remote_addr");
    f.bool("nodelay");
    rateLimitCommon(f);
  }

  private static void limitConn(Fields f, String path) {
    f.integer("conn", 1, Integer.MAX_VALUE);
    f.required("conn", "integer > 0");
    f.integer("burst", 0, Integer.MAX_VALUE);
    f.required("burst", "integer >= 0");
    f.number("default_conn_delay", 0, true);
    f.required("default_conn_delay", "number > 0, seconds");
    f.bool("only_use_default_delay");
    f.required("key", "string, e.g. remote_addr");
    rateLimitCommon(f);
  }

  private static void responseRewrite(Fields f, String path) {
    f.integer("status_code", 200, 598);
    f.string("body");
    f.bool("body_base64");
    f.object("headers");
    var vars = f.array("vars");
    if (vars != null) {
      var problems = new ArrayList<Problem>();
      Vars.parse(vars, f.pathOf("vars"), problems);
      f.problems(problems);
    }
    f.array("filters");
  }

  private static void faultInjection(Fields f, String path) {
    f.child(
        "abort",
        (a, p) -> {
          a.integer("http_status", 200, 599);
          a.required("http_status", "integer 200..599");
          a.string("body");
          a.object("headers");
          a.integer("percentage", 0, 100);
          a.array("vars");
          return null;
        });
    f.child(
        "delay",
        (d, p) -> {
          d.number("duration", 0, true);
          d.required("duration", "number > 0, seconds");
          d.integer("percentage", 0, 100);
          d.array("vars");
          return null;
        });
    if (!f.has("abort") && !f.has("delay")) {
      f.problem("abort and delay both missing (expected: at least one of them)");
    }
  }

  private static void echo(Fields f, String path) {
    f.string("before_body");
    f.string("body");
    f.string("after_body");
    f.object("headers");
    if (!f.has("before_body") && !f.has("body") && !f.has("after_body")) {
      f.problem("before_body, body and after_body all missing (expected: at least one)");
    }
  }

  private static void requestId(Fields f, String path) {
    f.string("header_name", Fields.Check.length(1, 256));
    f.bool("include_in_response");
    f.string("algorithm", Fields.Check.oneOf("uuid", "nanoid", "range_id"));
    f.object("range_id");
  }

  private static void trafficSplit(Fields f, String path) {
    f.children(
        "rules",
        (r, p) -> {
          r.array("match");
          r.children(
              "weighted_upstreams",
              (w, q) -> {
                w.id("upstream_id");
                w.object("upstream");
                w.integer("weight", 0, Integer.MAX_VALUE);
                return null;
              });
          return null;
        });
  }

  private static void kafkaProxy(Fields f, String path) {
    f.child(
        "sasl",
        (s, p) -> {
          s.requiredString("username", Fields.Check.length(1, 256));
          s.requiredString("password", Fields.Check.length(1, 256));
          return null;
        });
  }

  /** The batch processor's settings every APISIX logger has. */
  private static void batching(Fields f) {
    f.string("name", Fields.Check.length(1, 256));
    f.integer("batch_max_size", 1, 1_000_000);
    f.number("inactive_timeout", 0, true);
    f.number("buffer_duration", 0, true);
    f.integer("max_retry_count", 0, 1000);
    f.number("retry_delay", 0, false);
    f.bool("include_req_body");
    f.array("include_req_body_expr");
    f.object("log_format");
  }

  private static void httpLogger(Fields f, String path) {
    f.requiredString("uri", Fields.Check.pattern(java.util.regex.Pattern.compile("^https?://.+")));
    f.string("auth_header", Fields.Check.length(1, 4096));
    f.number("timeout", 0, true);
    f.string("concat_method", Fields.Check.oneOf("json", "new_line"));
    f.bool("include_resp_body");
    f.array("include_resp_body_expr");
    f.bool("ssl_verify");
    batching(f);
  }

  private static void kafkaLogger(Fields f, String path) {
    f.children(
        "brokers",
        (b, p) -> {
          b.requiredString("host", Fields.Check.length(1, 253));
          b.integer("port", 1, 65535);
          b.required("port", "integer 1..65535");
          b.child(
              "sasl_config",
              (s, q) -> {
                s.string("mechanism", Fields.Check.oneOf("PLAIN"));
                s.requiredString("user", Fields.Check.length(1, 256));
                s.requiredString("password", Fields.Check.length(1, 256));
                return null;
              });
          return null;
        });
    f.object("broker_list");
    f.exactlyOne("brokers", "broker_list");
    f.requiredString("kafka_topic", Fields.Check.length(1, 249));
    f.string("key", Fields.Check.length(1, 1024));
    f.number("timeout", 0, true);
    f.string("meta_format", Fields.Check.oneOf("default", "origin"));
    f.integer("required_acks", -1, 1);
    f.string("producer_type", Fields.Check.oneOf("async", "sync"));
    f.string("cluster_name", Fields.Check.length(1, 256));
    f.integer("producer_batch_num", 1, Integer.MAX_VALUE);
    f.integer("producer_batch_size", 0, Integer.MAX_VALUE);
    f.integer("producer_max_buffering", 1, Integer.MAX_VALUE);
    f.integer("producer_time_linger", 0, Integer.MAX_VALUE);
    f.integer("meta_refresh_interval", 1, Integer.MAX_VALUE);
    batching(f);
  }

  private static void checkRegex(Fields f, String at, String regex) {
    var expected = Regexes.VALID.test(regex);
    if (expected != null) {
      f.problem(at, "\"" + regex + "\" (expected: " + expected + ")");
    }
  }
}
