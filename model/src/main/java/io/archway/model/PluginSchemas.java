package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarFile;
import java.util.regex.Pattern;

/**
 * The plugins Archway knows, by APISIX's names, and the schemas of their configurations: the
 * operator checks a resource's plugins with it when it translates, the dataplane when it compiles.
 *
 * <p>Each plugin Archway runs has one JSON Schema, {@code io/archway/model/plugins/<name>.json}
 * (APISIX's field names, with the defaults, the validation and the descriptions; see {@link
 * JsonSchema}). The schemas live in the model, not beside the plugins in the dataplane, because the
 * operator, which cannot depend on the dataplane, checks the same configurations. A schema is read
 * the first time its plugin is named, and kept.
 *
 * <p>A plugin whose schema says {@code additionalProperties: false} is read strictly: a field the
 * schema does not name is reported (a misspelt {@code rejected_cod} is an error, not a silently
 * ignored setting). The few plugins whose APISIX schema grows with every release (the {@code
 * redis_*} settings of the rate limiters) are checked on the fields that matter and let the rest
 * through. The other APISIX plugins are known by name only, so that naming one gets "not run by
 * Archway" rather than "unknown plugin".
 */
public final class PluginSchemas {

  private PluginSchemas() {}

  private static final String DIR = "io/archway/model/plugins/";
  private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9-]*$");
  private static final Map<String, Optional<JsonSchema>> SCHEMAS = new ConcurrentHashMap<>();
  private static final Map<String, Optional<JsonSchema>> CONSUMER_SCHEMAS =
      new ConcurrentHashMap<>();

  /**
   * APISIX plugins known by name only, which Archway does not run: none today (naming one would be
   * "not run by Archway" rather than "unknown plugin").
   */
  private static final Set<String> BY_NAME = Set.of();

  private static final String LUA =
      "Archway cannot run Lua, so serverless functions are refused (expected: a plugin flow,"
          + " plugin_flow or plugin_flow_id, for conditions between plugins, or a Java plugin: a"
          + " class implementing io.archway.dataplane.plugin.Plugin, registered as a ServiceLoader"
          + " provider)";
  private static final String DUBBO =
      "Archway does not speak the Dubbo protocol, and no Dubbo server runs in its tests to check"
          + " it against, so it is refused rather than half served (expected: an HTTP or gRPC"
          + " upstream, such as a Dubbo 3 service on its gRPC-compatible Triple protocol)";

  private static final String EXT_PLUGIN =
      "Archway does not speak APISIX's external plugin runner protocol (flatbuffers RPC over a Unix"
          + " socket to a runner process in Go, Java or Python), so plugins written for a runner"
          + " cannot be called (expected: a Java plugin, a class implementing"
          + " io.archway.dataplane.plugin.Plugin registered as a ServiceLoader provider, or a plugin"
          + " flow for conditions between plugins)";

  /**
   * APISIX plugins Archway refuses on purpose, and why: naming one is an error that says so, in the
   * operator's checks and in the dataplane alike.
   */
  private static final Map<String, String> REFUSED =
      Map.ofEntries(
          Map.entry("serverless-pre-function", LUA),
          Map.entry("serverless-post-function", LUA),
          Map.entry("dubbo-proxy", DUBBO),
          Map.entry("http-dubbo", DUBBO),
          Map.entry(
              "saml-auth",
              "SAML 2.0 needs an XML signature and encryption stack (and a SAML identity provider"
                  + " to test it against) that Archway does not carry, so it is refused rather"
                  + " than half served (expected: openid-connect, cas-auth or authz-casdoor with an"
                  + " identity provider that speaks them, or forward-auth to a SAML service"
                  + " provider)"),
          Map.entry(
              "inspect",
              "inspect sets breakpoints on Lua functions of APISIX's own code, and Archway runs no"
                  + " Lua (expected: the dataplane's logs at debug level, /metrics and the Admin"
                  + " API's dry-run)"),
          Map.entry("ext-plugin-pre-req", EXT_PLUGIN),
          Map.entry("ext-plugin-post-req", EXT_PLUGIN),
          Map.entry("ext-plugin-post-resp", EXT_PLUGIN),
          Map.entry(
              "gm",
              "gm serves TLS with the Chinese SM2/SM3/SM4 suites (GB/T 38636), which need Tongsuo;"
                  + " the JDK's TLS and Netty's have none of them (expected: TLS 1.2/1.3 with the"
                  + " certificates of ssls objects)"),
          Map.entry(
              "ocsp-stapling",
              "not done yet: with OpenSSL (Archway's TLS provider where available) stapling needs"
                  + " the gateway to fetch and refresh each certificate's OCSP response itself, and"
                  + " the JDK's status_request (jdk.tls.server.enableStatusRequestExtension) is one"
                  + " setting for the whole process that fetches responses inside the handshake,"
                  + " on the event loop (expected: clients that check revocation themselves, or"
                  + " short-lived certificates)"),
          Map.entry(
              "brotli",
              "Brotli needs a native encoder (brotli4j, which Netty's brotli support uses) that is"
                  + " not on Archway's class path (expected: gzip, which compresses responses as"
                  + " they stream)"),
          Map.entry(
              "chaitin-waf",
              "it asks Chaitin SafeLine's detection engine over SafeLine's own binary protocol"
                  + " (t1k), which is not published completely enough to implement and test here"
                  + " without a SafeLine detector; refused rather than passing requests unchecked"
                  + " (expected: a WAF in front of the gateway, or forward-auth to a service that"
                  + " asks the detector)"),
          Map.entry(
              "rocketmq-logger",
              "Archway has no RocketMQ client: RocketMQ's remoting client brings a Netty build of"
                  + " its own onto the dataplane's class path, and no RocketMQ broker runs in"
                  + " Archway's tests to check a producer against (expected: kafka-logger, or"
                  + " http-logger or tcp-logger to a collector that forwards to RocketMQ)"));

  /**
   * Why Archway refuses APISIX plugin {@code name} on purpose, as the whole message; empty for
   * every other name.
   */
  public static Optional<String> refusal(String name) {
    var why = REFUSED.get(name);
    return why == null
        ? Optional.empty()
        : Optional.of("APISIX plugin \"" + name + "\" is refused by Archway: " + why);
  }

  /** Every plugin name Archway knows, sorted. */
  public static Set<String> names() {
    var all = new TreeSet<>(withSchema());
    all.addAll(BY_NAME);
    all.addAll(REFUSED.keySet());
    return Collections.unmodifiableSet(all);
  }

  /** The plugins Archway runs: those with a schema, sorted. */
  public static Set<String> withSchema() {
    return Listing.NAMES;
  }

  public static boolean known(String name) {
    return BY_NAME.contains(name) || REFUSED.containsKey(name) || schema(name).isPresent();
  }

  /**
   * The schema of plugin {@code name}; empty for a plugin Archway does not run.
   *
   * @throws IllegalStateException when the schema file is there but unreadable or uses what {@link
   *     JsonSchema} does not support (a build error, which a test catches)
   */
  public static Optional<JsonSchema> schema(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    return SCHEMAS.computeIfAbsent(name, PluginSchemas::load);
  }

  /**
   * The consumer-side schema of an authentication plugin ({@code
   * io/archway/model/plugins/consumer/<name>.json}): what a consumer's or a credential's
   * configuration of it holds ({@code key-auth}'s {@code key}), APISIX's {@code consumer_schema};
   * empty for the other plugins.
   */
  public static Optional<JsonSchema> consumerSchema(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    return CONSUMER_SCHEMAS.computeIfAbsent(name, n -> load("consumer/" + n));
  }

  /**
   * The problems of {@code conf} as a consumer's (or a credential's) configuration of plugin {@code
   * name}: its consumer schema when it has one (an authentication plugin), else its schema as for a
   * route ({@link #check}).
   */
  public static List<Problem> checkConsumer(String name, JsonNode conf, String path) {
    var schema = consumerSchema(name);
    if (schema.isEmpty()) {
      return check(name, conf, path);
    }
    var problems = new ArrayList<Problem>();
    if (conf == null || !conf.isObject()) {
      problems.add(new Problem(path, Fields.show(conf) + " (expected: object)"));
      return problems;
    }
    schema.get().validate(withoutMeta(conf), path, problems);
    return problems;
  }

  private static Optional<JsonSchema> load(String name) {
    var file = DIR + name + ".json";
    try (var in = PluginSchemas.class.getClassLoader().getResourceAsStream(file)) {
      if (in == null) {
        return Optional.empty();
      }
      return Optional.of(JsonSchema.parse(ModelJson.mapper().readTree(in), file));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("plugin schema " + file + ": " + e.getMessage(), e);
    }
  }

  /** Whether the dataplane runs plugin {@code name} (the others are known by name only). */
  public static boolean runs(String name) {
    return schema(name).isPresent();
  }

  /**
   * The problems of {@code conf} as the configuration of plugin {@code name}, each with a path
   * under {@code path} (e.g. {@code plugins.limit-count}); empty when it is valid.
   */
  public static List<Problem> check(String name, JsonNode conf, String path) {
    var problems = new ArrayList<Problem>();
    var why = notRun(name);
    if (why.isPresent()) {
      problems.add(new Problem(path, why.get()));
      return problems;
    }
    var schema = schema(name);
    if (conf == null || !conf.isObject()) {
      problems.add(new Problem(path, Fields.show(conf) + " (expected: object)"));
      return problems;
    }
    schema.get().validate(withoutMeta(conf), path, problems);
    if (problems.isEmpty() && name.equals("multi-auth")) {
      checkAuthPlugins(conf.get("auth_plugins"), path + ".auth_plugins", problems);
    }
    return problems;
  }

  /**
   * multi-auth's {@code auth_plugins}: each entry one authentication plugin (one with a consumer
   * schema), checked as that plugin's configuration on a route.
   */
  private static void checkAuthPlugins(JsonNode list, String path, List<Problem> problems) {
    for (int i = 0; i < list.size(); i++) {
      var entry = list.get(i);
      var at = path + "[" + i + "]";
      if (entry.size() != 1) {
        problems.add(
            new Problem(
                at, entry.size() + " plugins (expected: one plugin, e.g. {\"key-auth\": {}})"));
        continue;
      }
      var plugin = entry.fieldNames().next();
      var conf = entry.get(plugin);
      if (runs(plugin) && consumerSchema(plugin).isEmpty()) {
        var auth = new TreeSet<String>();
        for (var n : withSchema()) {
          if (consumerSchema(n).isPresent()) {
            auth.add(n);
          }
        }
        problems.add(
            new Problem(
                at + "." + plugin,
                "not an authentication plugin (expected: one of " + String.join(", ", auth) + ")"));
        continue;
      }
      problems.addAll(
          check(
              plugin,
              conf == null || conf.isNull() ? ModelJson.mapper().createObjectNode() : conf,
              at + "." + plugin));
    }
  }

  /**
   * Why plugin {@code name} is not run, as the whole message, the one wording every check uses (the
   * operator's translators, the dataplane's compiler, the Admin API): refused on purpose ({@link
   * #refusal}), an APISIX plugin Archway does not run (a route with it would be refused by the
   * dataplane, so it is refused everywhere rather than accepted and then silently not served), or a
   * name nobody knows. Empty for a plugin Archway runs.
   */
  public static Optional<String> notRun(String name) {
    var refused = refusal(name);
    if (refused.isPresent()) {
      return refused;
    }
    if (!known(name)) {
      return Optional.of(unknown(name));
    }
    if (schema(name).isEmpty()) {
      return Optional.of(
          "APISIX plugin \""
              + name
              + "\" is not run by Archway (expected: one of "
              + String.join(", ", withSchema())
              + ")");
    }
    return Optional.empty();
  }

  /** The message for a plugin name Archway does not know at all. */
  public static String unknown(String name) {
    return "unknown plugin \"" + name + "\" (expected: a plugin Archway runs)";
  }

  /**
   * {@code conf} without APISIX's per-plugin {@code _meta} (disable, priority, filter), which is
   * allowed on every plugin and is not part of its schema.
   */
  public static JsonNode withoutMeta(JsonNode conf) {
    if (!conf.has("_meta")) {
      return conf;
    }
    var copy = ((ObjectNode) conf).deepCopy();
    copy.remove("_meta");
    return copy;
  }

  /** The schema files, listed once: a directory in development, a jar entry when packaged. */
  private static final class Listing {
    static final Set<String> NAMES = list();

    private static Set<String> list() {
      var url = PluginSchemas.class.getClassLoader().getResource(DIR);
      if (url == null) {
        return Set.of();
      }
      try {
        var uri = url.toURI();
        if (uri.getScheme().equals("jar") && url.openConnection() instanceof JarURLConnection c) {
          // The jar's own entry list, which the class loader has read already (a JarFile on the
          // same file shares it): a zip file system over it would index all of the dataplane
          // jar's ~50,000 entries again, a tenth of the start's CPU.
          c.setUseCaches(false);
          try (var jar = c.getJarFile()) {
            return names(jar);
          }
        }
        return names(Path.of(uri));
      } catch (IOException | URISyntaxException e) {
        throw new IllegalStateException("plugin schemas: cannot list " + url + ": " + e, e);
      }
    }

    private static Set<String> names(JarFile jar) {
      var out = new TreeSet<String>();
      for (var e = jar.entries(); e.hasMoreElements(); ) {
        var n = e.nextElement().getName();
        // The directory's own files, not those of its subdirectories (consumer/).
        if (n.startsWith(DIR) && n.endsWith(".json") && n.indexOf('/', DIR.length()) < 0) {
          out.add(n.substring(DIR.length(), n.length() - ".json".length()));
        }
      }
      return Collections.unmodifiableSet(out);
    }

    private static Set<String> names(Path dir) throws IOException {
      var out = new TreeSet<String>();
      try (var files = Files.list(dir)) {
        files.forEach(
            f -> {
              var n = f.getFileName().toString();
              if (n.endsWith(".json")) {
                out.add(n.substring(0, n.length() - ".json".length()));
              }
            });
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      return Collections.unmodifiableSet(out);
    }
  }
}
