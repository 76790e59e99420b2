package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.apisix.v1alpha1.Consumer;
import io.archway.crds.apisix.v1alpha1.ConsumerSpec;
import io.archway.model.Kind;
import io.archway.model.PluginSchemas;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Consumer (APISIX Ingress Controller 2.x, {@code apisix.apache.org/v1alpha1}) as {@code
 * consumers/<namespace>_<name>} (the username the APISIX Ingress Controller composes) with its
 * {@code plugins}, and one {@code consumers/<username>/credentials/<id>} per credential (APISIX
 * 3.x's credentials), the id being the credential's {@code name}. A credential's fields come from
 * {@code config} or from a Secret (one data key per field); values from a Secret are never shown.
 */
public final class ConsumerTranslator {

  private ConsumerTranslator() {}

  static final List<String> TYPES = List.of("key-auth", "basic-auth", "jwt-auth", "hmac-auth");

  /** Secret values that the auth plugins take as numbers or booleans, not strings. */
  private static final Set<String> NUMBERS = Set.of("exp", "lifetime_grace_period", "clock_skew");

  private static final Set<String> BOOLEANS = Set.of("base64_secret");

  public static Translation translate(Consumer c, Refs refs) {
    var t = new Translation();
    var ns = c.getMetadata().getNamespace();
    var username = ApisixConsumerTranslator.username(ns, c.getMetadata().getName());
    var spec = c.getSpec() == null ? new ConsumerSpec() : c.getSpec();
    if (spec.gatewayRef != null) {
      t.warn(
          "spec.gatewayRef: Gateway API is not supported by Archway yet; the consumer is served by"
              + " every route of this operator's dataplane, whatever Gateway it names");
    }
    var consumer = JsonNodeFactory.instance.objectNode();
    consumer.put("username", username);
    var plugins = consumer.putObject("plugins");
    PluginsBuilder.add(spec.plugins, "spec.plugins", ns, refs, plugins, t);
    var credentials = new java.util.ArrayList<ObjectNode>();
    var ids = new HashSet<String>();
    if (spec.credentials != null) {
      for (int i = 0; i < spec.credentials.size(); i++) {
        var cred = spec.credentials.get(i);
        var at = "spec.credentials[" + i + "]";
        var conf = credential(cred, at, ns, refs, t);
        if (conf == null) {
          continue;
        }
        var id =
            cred.name == null || cred.name.isEmpty()
                ? Ids.of(cred.type, String.valueOf(i))
                : Ids.of(cred.name);
        if (!ids.add(id)) {
          t.error(at + ".name", "\"" + id + "\" used twice (expected: each credential's own name)");
          continue;
        }
        var json = JsonNodeFactory.instance.objectNode();
        json.put("id", username + "/credentials/" + id);
        json.putObject("plugins").set(cred.type, conf);
        credentials.add(json);
      }
    }
    if (!t.ok()) {
      return t;
    }
    var obj =
        ModelObjects.read(Kind.CONSUMERS, consumer, Map.of("plugins", "spec.plugins"), "spec", t);
    if (obj != null) {
      t.add(Kind.CONSUMERS, obj);
    }
    for (int i = 0; i < credentials.size(); i++) {
      var cred =
          ModelObjects.read(Kind.CREDENTIALS, credentials.get(i), Map.of(), "spec.credentials", t);
      if (cred != null) {
        t.add(Kind.CREDENTIALS, cred);
      }
    }
    return t;
  }

  /** One credential's plugin configuration, checked; {@code null} (errors recorded) if bad. */
  private static ObjectNode credential(
      ConsumerSpec.Credential cred, String at, String ns, Refs refs, Translation t) {
    if (cred == null || cred.type == null || !TYPES.contains(cred.type)) {
      t.error(
          at + ".type",
          (cred == null || cred.type == null ? "missing" : "\"" + cred.type + "\"")
              + " (expected: one of "
              + String.join(", ", TYPES)
              + ")");
      return null;
    }
    boolean value = cred.config != null && !cred.config.isNull();
    boolean secret = cred.secretRef != null;
    if (value == secret) {
      t.error(
          at,
          (value ? "config and secretRef both set" : "no config and no secretRef")
              + " (expected: one of them)");
      return null;
    }
    ObjectNode conf;
    String source;
    if (value) {
      if (!cred.config.isObject()) {
        t.error(at + ".config", "not an object (expected: the " + cred.type + " credential)");
        return null;
      }
      conf = ((ObjectNode) cred.config).deepCopy();
      source = at + ".config";
    } else {
      var secretNs = cred.secretRef.namespace == null ? ns : cred.secretRef.namespace;
      var s = TlsSecrets.secret(refs, secretNs, cred.secretRef.name, at + ".secretRef", t);
      if (s == null) {
        return null;
      }
      conf = JsonNodeFactory.instance.objectNode();
      var keys = new java.util.TreeSet<String>();
      if (s.getData() != null) {
        keys.addAll(s.getData().keySet());
      }
      if (s.getStringData() != null) {
        keys.addAll(s.getStringData().keySet());
      }
      for (var k : keys) {
        var v = TlsSecrets.data(s, k);
        if (v == null) {
          continue;
        }
        if (NUMBERS.contains(k)) {
          try {
            conf.put(k, Long.parseLong(v.strip()));
          } catch (NumberFormatException e) {
            t.error(
                at + ".secretRef",
                "Secret "
                    + secretNs
                    + "/"
                    + cred.secretRef.name
                    + ": key "
                    + k
                    + " is not a number (value not shown)");
          }
        } else if (BOOLEANS.contains(k)) {
          conf.put(k, Boolean.parseBoolean(v.strip()));
        } else {
          conf.put(k, v);
        }
      }
      source = at + ".secretRef (Secret " + secretNs + "/" + cred.secretRef.name + ")";
    }
    var problems = PluginSchemas.checkConsumer(cred.type, conf, "");
    for (var p : problems) {
      if (value) {
        t.error(source + (p.path().isEmpty() ? "" : "." + p.path()), p.message());
      } else {
        // Never show a Secret's value in a status or an event.
        t.error(
            source,
            p.path().isEmpty()
                ? p.message()
                : p.message().startsWith("missing")
                    ? "key " + p.path() + ": " + p.message()
                    : "key "
                        + p.path()
                        + " does not fit the "
                        + cred.type
                        + " credential (value not shown)");
      }
    }
    return problems.isEmpty() ? conf : null;
  }
}
