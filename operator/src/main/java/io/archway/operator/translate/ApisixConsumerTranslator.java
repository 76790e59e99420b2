package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.ApisixConsumer;
import io.archway.crds.apisix.ApisixConsumerSpec;
import io.archway.model.Kind;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ApisixConsumer as {@code consumers/<namespace>_<name>}: the credentials of its auth plugins,
 * given as values or read from a Secret of its namespace (one data key per field). Values taken
 * from a Secret are named in problems by their key only, never shown.
 */
public final class ApisixConsumerTranslator {

  private ApisixConsumerTranslator() {}

  /** The consumer's username, as the APISIX Ingress Controller names it. */
  public static String username(String ns, String name) {
    var u = (ns + "_" + name).replaceAll("[^a-zA-Z0-9_\\-]", "_");
    return u.length() <= 100 ? u : u.substring(0, 83) + "_" + Ids.hash(u);
  }

  /** Fields each plugin takes on a consumer, with the ones it needs. */
  private record Plugin(String name, String field, List<String> fields, List<String> required) {}

  private static final List<Plugin> PLUGINS =
      List.of(
          new Plugin("key-auth", "keyAuth", List.of("key"), List.of("key")),
          new Plugin(
              "basic-auth",
              "basicAuth",
              List.of("username", "password"),
              List.of("username", "password")),
          new Plugin(
              "jwt-auth",
              "jwtAuth",
              List.of(
                  "key",
                  "secret",
                  "public_key",
                  "private_key",
                  "algorithm",
                  "exp",
                  "base64_secret",
                  "lifetime_grace_period"),
              List.of("key")),
          // APISIX 3.x's consumer fields (key_id, secret_key) and 2.x's, which the APISIX
          // Ingress Controller 1.x documents (access_key, algorithm, ...).
          new Plugin(
              "hmac-auth",
              "hmacAuth",
              List.of(
                  "key_id",
                  "secret_key",
                  "access_key",
                  "algorithm",
                  "clock_skew",
                  "signed_headers",
                  "keep_headers",
                  "encode_uri_params",
                  "validate_request_body",
                  "max_req_body"),
              List.of("secret_key")),
          new Plugin("ldap-auth", "ldapAuth", List.of("user_dn"), List.of("user_dn")),
          new Plugin(
              "wolf-rbac", "wolfRBAC", List.of("server", "appid", "header_prefix"), List.of()));

  private static final Set<String> NUMBERS =
      Set.of("exp", "lifetime_grace_period", "clock_skew", "max_req_body");
  private static final Set<String> BOOLEANS =
      Set.of("base64_secret", "keep_headers", "encode_uri_params", "validate_request_body");
  private static final String EXPECTED =
      "keyAuth, basicAuth, jwtAuth, hmacAuth, ldapAuth or wolfRBAC";

  public static Translation translate(ApisixConsumer c, Refs refs) {
    var t = new Translation();
    var ns = c.getMetadata().getNamespace();
    var spec = c.getSpec();
    if (spec == null || spec.authParameter == null) {
      t.error("spec.authParameter", "missing (expected: " + EXPECTED + ")");
      return t;
    }
    var consumer = JsonNodeFactory.instance.objectNode();
    consumer.put("username", username(ns, c.getMetadata().getName()));
    var plugins = consumer.putObject("plugins");
    var a = spec.authParameter;
    Map<String, ApisixConsumerSpec.Credentials> given =
        new java.util.LinkedHashMap<String, ApisixConsumerSpec.Credentials>();
    given.put("keyAuth", a.keyAuth);
    given.put("basicAuth", a.basicAuth);
    given.put("jwtAuth", a.jwtAuth);
    given.put("hmacAuth", a.hmacAuth);
    given.put("ldapAuth", a.ldapAuth);
    given.put("wolfRBAC", a.wolfRBAC);
    for (var p : PLUGINS) {
      var creds = given.get(p.field);
      if (creds == null) {
        continue;
      }
      var conf = credentials(p, creds, "spec.authParameter." + p.field, ns, refs, t);
      if (conf != null) {
        plugins.set(p.name, conf);
      }
    }
    if (plugins.isEmpty() && t.ok()) {
      t.error("spec.authParameter", "no credentials (expected: " + EXPECTED + ")");
    }
    // Other plugins of the consumer; an auth plugin here would contradict authParameter.
    var others = JsonNodeFactory.instance.objectNode();
    PluginsBuilder.add(spec.plugins, "spec.plugins", ns, refs, others, t);
    for (var name : (Iterable<String>) others::fieldNames) {
      if (plugins.has(name)) {
        t.error(
            "spec.plugins",
            "\""
                + name
                + "\" is also given in spec.authParameter (expected: its credentials there only)");
      } else {
        plugins.set(name, others.get(name));
      }
    }
    if (!t.ok()) {
      return t;
    }
    var obj =
        ModelObjects.read(
            Kind.CONSUMERS, consumer, Map.of("plugins", "spec.authParameter"), "spec", t);
    if (obj != null) {
      t.add(Kind.CONSUMERS, obj);
    }
    return t;
  }

  private static ObjectNode credentials(
      Plugin p,
      ApisixConsumerSpec.Credentials creds,
      String at,
      String ns,
      Refs refs,
      Translation t) {
    int before = t.errors().size();
    boolean value = creds.value != null && !creds.value.isNull();
    boolean secret = creds.secretRef != null;
    if (value == secret) {
      t.error(
          at,
          (value ? "value and secretRef both set" : "empty") + " (expected: value or secretRef)");
      return null;
    }
    var conf = JsonNodeFactory.instance.objectNode();
    String source;
    if (value) {
      if (!creds.value.isObject()) {
        t.error(at + ".value", "not an object (expected: " + String.join(", ", p.fields) + ")");
        return null;
      }
      conf.setAll(((ObjectNode) creds.value).deepCopy());
      source = at + ".value";
    } else {
      var s = TlsSecrets.secret(refs, ns, creds.secretRef.name, at + ".secretRef", t);
      if (s == null) {
        return null;
      }
      for (var field : p.fields) {
        var v = TlsSecrets.data(s, field);
        if (v == null) {
          continue;
        }
        if (NUMBERS.contains(field)) {
          try {
            conf.put(field, Long.parseLong(v.strip()));
          } catch (NumberFormatException e) {
            t.error(
                at + ".secretRef",
                "Secret "
                    + ns
                    + "/"
                    + creds.secretRef.name
                    + ": key "
                    + field
                    + " is not a number (value not shown)");
          }
        } else if (BOOLEANS.contains(field)) {
          conf.put(field, Boolean.parseBoolean(v.strip()));
        } else {
          conf.put(field, v);
        }
      }
      source = at + ".secretRef (Secret " + ns + "/" + creds.secretRef.name + ")";
    }
    for (var name : conf.properties().stream().map(Map.Entry::getKey).toList()) {
      if (!p.fields.contains(name)) {
        t.error(
            source,
            "unknown field "
                + name
                + " (expected: "
                + String.join(", ", new java.util.TreeSet<>(p.fields))
                + ")");
      }
    }
    for (var need : p.required) {
      if (!conf.hasNonNull(need) || conf.get(need).asText().isEmpty()) {
        t.error(source, need + ": missing (expected: the " + p.name + " credential)");
      }
    }
    if (p.name.equals("jwt-auth") && !conf.hasNonNull("secret") && !conf.hasNonNull("public_key")) {
      t.error(source, "secret or public_key: missing (expected: one, to check tokens)");
    }
    if (p.name.equals("hmac-auth")
        && !conf.hasNonNull("key_id")
        && !conf.hasNonNull("access_key")) {
      t.error(source, "key_id: missing (expected: the key id clients sign with)");
    }
    if (t.errors().size() > before) {
      return conf;
    }
    // The credential checked as the dataplane will: the plugin's consumer schema, or, for a plugin
    // Archway does not run (yet), the one message that says so.
    for (var problem : io.archway.model.PluginSchemas.checkConsumer(p.name, conf, "")) {
      if (problem.path().isEmpty() || !secretSourced(source)) {
        t.error(source + (problem.path().isEmpty() ? "" : "." + problem.path()), problem.message());
      } else {
        t.error(source, "key " + problem.path() + " does not fit " + p.name + " (value not shown)");
      }
    }
    return conf;
  }

  private static boolean secretSourced(String source) {
    return source.contains(".secretRef");
  }
}
