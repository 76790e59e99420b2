package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.support.SigV4;
import io.archway.model.Kind;
import io.archway.model.Secret;
import io.archway.model.ValueRefs;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code $secret://} references for the compiler from the secret managers of the config
 * ({@code secrets/vault/1}, {@code secrets/aws/1}, {@code secrets/gcp/1}). It runs where configs
 * compile, on the config source's thread, never on an event loop: a read blocks that thread for at
 * most {@link #TIMEOUT}. Each secret read (a manager and a path) is kept for {@code ttl}; after
 * that the next compile that needs it reads it again, and if that read fails the value read last is
 * kept (logged, without the value). A reference that cannot be read is an error naming it; no
 * message holds a secret.
 */
final class SecretStore implements ValueRefs.Secrets {

  private static final Logger log = LoggerFactory.getLogger(SecretStore.class);
  static final Duration TIMEOUT = Duration.ofSeconds(5);
  static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Duration ttl;
  private final Clock clock;
  private final Function<String, String> env;
  private volatile HttpClient http; // made at the first read from a manager: see http()
  private final GcpSecretManager gcp;

  private volatile Map<String, Secret> managers = Map.of();
  // By manager settings and path: a changed manager reads again.
  private final Map<Read, Cached> cache = new ConcurrentHashMap<>();

  private record Read(Secret manager, String path) {}

  private record Cached(JsonNode document, long expiresAtMillis) {}

  SecretStore() {
    this(DEFAULT_TTL, Clock.systemUTC(), System::getenv);
  }

  SecretStore(Duration ttl, Clock clock, Function<String, String> env) {
    this.ttl = ttl;
    this.clock = clock;
    this.env = env;
    this.gcp = new GcpSecretManager(this::http);
  }

  /**
   * The client towards secret managers, made on first use (on the config thread): not at start,
   * where the JDK's default TLS context it sets up (the trust store read) is a twentieth of a
   * 10,000-route start's CPU, for a config that most often names no manager.
   */
  private HttpClient http() {
    var c = http;
    if (c == null) {
      synchronized (this) {
        c = http;
        if (c == null) {
          c =
              HttpClient.newBuilder()
                  .connectTimeout(TIMEOUT)
                  .followRedirects(HttpClient.Redirect.NEVER)
                  .build();
          http = c;
        }
      }
    }
    return c;
  }

  /**
   * The managers of {@code snapshot}; what was read from managers now gone is forgotten.
   *
   * @return whether the managers changed
   */
  boolean update(ConfigSnapshot snapshot) {
    var next = new LinkedHashMap<String, Secret>();
    for (var item : snapshot.items(Kind.SECRETS).values()) {
      if (item.value() instanceof Secret s) {
        next.put(s.id(), s);
      }
    }
    if (next.equals(managers)) {
      return false;
    }
    managers = Map.copyOf(next);
    cache.keySet().removeIf(r -> !r.manager().equals(next.get(r.manager().id())));
    gcp.retain(next);
    return true;
  }

  @Override
  public String value(String manager, String id, String path, String key)
      throws ValueRefs.Unresolved {
    var conf = managers.get(manager + "/" + id);
    if (conf == null) {
      throw new ValueRefs.Unresolved(
          "no secret manager secrets/"
              + manager
              + "/"
              + id
              + " (expected: a secrets object with id "
              + manager
              + "/"
              + id
              + ")");
    }
    var doc = document(new Read(conf, path));
    var v = doc.get(key);
    if (v == null || v.isNull()) {
      throw new ValueRefs.Unresolved(
          "no key \"" + key + "\" in the secret " + path + " of secrets/" + conf.id());
    }
    return v.isTextual() ? v.textValue() : v.toString();
  }

  private JsonNode document(Read read) throws ValueRefs.Unresolved {
    long now = clock.millis();
    var cached = cache.get(read);
    if (cached != null && cached.expiresAtMillis() > now) {
      return cached.document();
    }
    try {
      var doc =
          switch (read.manager().manager()) {
            case "vault" -> vault(read.manager(), read.path());
            case "aws" -> aws(read.manager(), read.path());
            case "gcp" -> gcp.read(read.manager(), read.path());
            default ->
                throw new ValueRefs.Unresolved(
                    "secret manager " + read.manager().manager() + " is not supported");
          };
      cache.put(read, new Cached(doc, now + ttl.toMillis()));
      return doc;
    } catch (ValueRefs.Unresolved e) {
      if (cached != null) {
        log.warn(
            "secrets: reading {} from secrets/{} again failed, the value read before stays: {}",
            read.path(),
            read.manager().id(),
            e.getMessage());
        return cached.document();
      }
      throw e;
    }
  }

  /**
   * APISIX's read, {@code GET {uri}/v1/{prefix}/{path}}; the answer's {@code data} is the secret
   * (KV v1), or its {@code data.data} when it is a KV v2 answer ({@code data.metadata} beside it).
   */
  private JsonNode vault(Secret s, String path) throws ValueRefs.Unresolved {
    for (var missing :
        new String[] {s.prefix() == null ? "prefix" : null, s.token() == null ? "token" : null}) {
      if (missing != null) {
        throw new ValueRefs.Unresolved(
            "vault secrets/" + s.id() + ": " + missing + ": missing (expected: string)");
      }
    }
    var uri = s.uri().replaceAll("/+$", "") + "/v1/" + trim(s.prefix()) + "/" + trim(path);
    var req =
        HttpRequest.newBuilder(uri(uri, s))
            .timeout(TIMEOUT)
            .header("X-Vault-Token", setting(s, "token", s.token()))
            .GET();
    if (s.namespace() != null) {
      req.header("X-Vault-Namespace", s.namespace());
    }
    var body = send(req.build(), s, "GET " + uri);
    var data = body.path("data");
    if (!data.isObject()) {
      throw new ValueRefs.Unresolved(
          "vault secrets/" + s.id() + ": GET " + uri + ": no data in the answer");
    }
    if (data.path("data").isObject() && data.path("metadata").isObject()) {
      return data.get("data");
    }
    return data;
  }

  /**
   * Secrets Manager's GetSecretValue (JSON 1.1 protocol, SigV4), as APISIX reads it: the {@code
   * SecretString} is a JSON object whose fields are the keys.
   */
  private JsonNode aws(Secret s, String path) throws ValueRefs.Unresolved {
    var region = s.region() == null ? "us-east-1" : s.region();
    var endpoint =
        s.endpointUrl() != null
            ? s.endpointUrl()
            : "https://secretsmanager." + region + ".amazonaws.com";
    var uri = uri(endpoint.replaceAll("/+$", "") + "/", s);
    byte[] payload;
    try {
      payload = JSON.writeValueAsBytes(Map.of("SecretId", path, "VersionStage", "AWSCURRENT"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    var headers =
        Map.of(
            "Content-Type", "application/x-amz-json-1.1",
            "X-Amz-Target", "secretsmanager.GetSecretValue");
    var credentials =
        new SigV4.Credentials(
            setting(s, "access_key_id", s.accessKeyId()),
            setting(s, "secret_access_key", s.secretAccessKey()),
            s.sessionToken() == null ? null : setting(s, "session_token", s.sessionToken()));
    var signed =
        SigV4.sign(
            "POST", uri, headers, payload, credentials, region, "secretsmanager", clock.instant());
    var req = HttpRequest.newBuilder(uri).timeout(TIMEOUT);
    headers.forEach(req::header);
    signed.forEach(req::header);
    req.POST(HttpRequest.BodyPublishers.ofByteArray(payload));
    var body = send(req.build(), s, "GetSecretValue " + path);
    var string = body.path("SecretString");
    if (!string.isTextual()) {
      throw new ValueRefs.Unresolved(
          "aws secrets/" + s.id() + ": GetSecretValue " + path + ": no SecretString");
    }
    try {
      var doc = JSON.readTree(string.textValue());
      if (doc == null || !doc.isObject()) {
        throw new ValueRefs.Unresolved(
            "aws secrets/"
                + s.id()
                + ": the secret "
                + path
                + " is not a JSON object (expected: key/value pairs)");
      }
      return doc;
    } catch (IOException e) {
      throw new ValueRefs.Unresolved(
          "aws secrets/"
              + s.id()
              + ": the secret "
              + path
              + " is not JSON (expected: key/value pairs)");
    }
  }

  private JsonNode send(HttpRequest req, Secret s, String what) throws ValueRefs.Unresolved {
    return send(http(), req, s, what);
  }

  /** {@code req}'s JSON answer; an error names {@code what} and the status, never the body. */
  static JsonNode send(HttpClient client, HttpRequest req, Secret s, String what)
      throws ValueRefs.Unresolved {
    var where = s.manager() + " secrets/" + s.id() + ": " + what;
    HttpResponse<byte[]> res;
    try {
      res = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new ValueRefs.Unresolved(
          where + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ValueRefs.Unresolved(where + ": interrupted");
    }
    if (res.statusCode() != 200) {
      // The answer's body is not quoted: a server may echo what it was sent.
      throw new ValueRefs.Unresolved(where + ": status " + res.statusCode() + " (expected: 200)");
    }
    try {
      return JSON.readTree(res.body());
    } catch (IOException e) {
      throw new ValueRefs.Unresolved(where + ": the answer is not JSON");
    }
  }

  /** A manager's setting, which may itself be {@code $env://NAME}. */
  private String setting(Secret s, String field, String value) throws ValueRefs.Unresolved {
    if (value != null && value.startsWith(ValueRefs.ENV)) {
      var name = value.substring(ValueRefs.ENV.length());
      var v = name.isEmpty() ? null : env.apply(name);
      if (v == null) {
        throw new ValueRefs.Unresolved(
            "secrets/" + s.id() + ": " + field + ": environment variable " + name + " is not set");
      }
      return v;
    }
    return value;
  }

  static URI uri(String s, Secret conf) throws ValueRefs.Unresolved {
    try {
      return URI.create(s);
    } catch (IllegalArgumentException e) {
      throw new ValueRefs.Unresolved("secrets/" + conf.id() + ": not a valid address: " + s);
    }
  }

  static String trim(String p) {
    var out = p.replaceAll("^/+", "").replaceAll("/+$", "");
    // Each part is sent as it is written, but a space or a ? must not change the path.
    var parts = out.split("/", -1);
    var b = new StringBuilder();
    for (var part : parts) {
      b.append(b.isEmpty() ? "" : "/")
          .append(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return b.toString();
  }
}
