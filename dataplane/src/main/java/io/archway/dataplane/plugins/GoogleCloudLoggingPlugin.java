package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * google-cloud-logging: each request's entry, batched, written to Cloud Logging's {@code
 * entries:write} as {@code {"entries":[...],"partialSuccess":false}}, each a LogEntry with {@code
 * logName} ({@code projects/<project>/logs/<log_id>}), {@code resource}, {@code timestamp}, {@code
 * labels}, {@code insertId} (the request id when known) and APISIX's {@code httpRequest} and {@code
 * jsonPayload} (route and service), or the {@code log_format} entry as {@code jsonPayload}.
 *
 * <p>Authenticated as a service account ({@code auth_config}, or {@code auth_file}, its JSON key
 * file): an RS256 JWT signed with its private key is exchanged at {@code token_uri} for an access
 * token (OAuth 2.0's JWT bearer grant), which is kept until a minute before it expires. All of it
 * on the plugins' I/O threads, from the batcher.
 */
public final class GoogleCloudLoggingPlugin
    implements EntryLogger<GoogleCloudLoggingPlugin.Config> {

  static final String TOKEN_URI = "https://oauth2.googleapis.com/token";
  static final String ENTRIES_URI = "https://logging.googleapis.com/v2/entries:write";
  static final List<String> SCOPE =
      List.of(
          "https://www.googleapis.com/auth/logging.read",
          "https://www.googleapis.com/auth/logging.write",
          "https://www.googleapis.com/auth/logging.admin",
          "https://www.googleapis.com/auth/cloud-platform");

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** The configuration; schema {@code google-cloud-logging.json}. */
  public record Config(
      AuthConfig authConfig,
      boolean sslVerify,
      String authFile,
      ObjectNode resource,
      String logId,
      ObjectNode logFormat,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  /** A service account's credentials, as in its JSON key file. */
  public record AuthConfig(
      String clientEmail,
      String privateKey,
      String projectId,
      String tokenUri,
      List<String> scope,
      String entriesUri) {}

  @Override
  public String name() {
    return "google-cloud-logging";
  }

  @Override
  public int priority() {
    return 407;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var auth = conf.authConfig() != null ? conf.authConfig() : readAuthFile(conf.authFile());
    var oauth = new OAuth(auth, key(auth.privateKey()), conf.sslVerify(), services);
    var entries = LogEntries.builder(name(), conf.logFormat(), false, null, false, null, services);
    var post =
        LogPost.to(
            "auth_config.entries_uri",
            List.of(auth.entriesUri() == null ? ENTRIES_URI : auth.entriesUri()),
            "",
            Map.of(),
            Duration.ofSeconds(10),
            conf.sslVerify(),
            services);
    LogBatcher.Sender sender =
        batch ->
            post.post(
                LogEntries.joined(batch, "{\"entries\":[", ",", "],\"partialSuccess\":false}"),
                "application/json",
                Map.of("Authorization", oauth.authorization()));
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    var logName = "projects/" + auth.projectId() + "/logs/" + conf.logId();
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          var out =
              entry(
                  e,
                  SplunkHecLoggingPlugin.customized(conf.logFormat(), services, name()),
                  ctx.serviceId());
          out.putObject("labels").put("source", "apache-apisix-google-cloud-logging");
          out.put("timestamp", STAMP.format(Instant.now()));
          out.set("resource", conf.resource());
          var requestId = ctx.get("request_id");
          if (requestId != null) {
            out.put("insertId", requestId);
          }
          out.put("logName", logName);
          LogEntries.offer(batcher, name(), services, out);
        });
  }

  /** APISIX's LogEntry of entry {@code e}, without the parts every entry has. */
  static ObjectNode entry(ObjectNode e, boolean customized, String serviceId) {
    var out = ModelJson.mapper().createObjectNode();
    if (customized) {
      out.set("jsonPayload", e);
      return out;
    }
    var request = e.path("request");
    var http = out.putObject("httpRequest");
    http.set("requestMethod", request.get("method"));
    http.set("requestUrl", request.get("url"));
    http.set("requestSize", request.get("size"));
    http.set("status", e.path("response").get("status"));
    http.set("responseSize", e.path("response").get("size"));
    var ua = request.path("headers").get("user-agent");
    if (ua != null) {
      http.set("userAgent", ua);
    }
    http.set("remoteIp", e.get("client_ip"));
    if (e.has("upstream")) {
      http.set("serverIp", e.get("upstream"));
    }
    http.put("latency", String.format(Locale.ROOT, "%.3fs", e.path("latency").asDouble() / 1000));
    var payload = out.putObject("jsonPayload");
    payload.set("route_id", e.get("route_id"));
    if (serviceId != null) {
      payload.put("service_id", serviceId);
    }
    return out;
  }

  private static AuthConfig readAuthFile(String file) {
    JsonNode json;
    try {
      json = ModelJson.mapper().readTree(Files.readAllBytes(Path.of(file)));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "auth_file: \"" + file + "\" cannot be read as JSON: " + e.getMessage());
    }
    for (var f : List.of("client_email", "private_key", "project_id")) {
      if (!json.path(f).isTextual()) {
        throw new IllegalArgumentException(
            "auth_file: \"" + file + "\" has no " + f + " (expected: a service account key file)");
      }
    }
    var scope = new ArrayList<String>();
    var s = json.get("scope");
    if (s != null && s.isArray()) {
      s.forEach(x -> scope.add(x.asText()));
    } else if (s != null && s.isTextual()) {
      scope.add(s.asText());
    }
    return new AuthConfig(
        json.get("client_email").asText(),
        json.get("private_key").asText(),
        json.get("project_id").asText(),
        json.path("token_uri").asText(TOKEN_URI),
        scope.isEmpty() ? SCOPE : scope,
        json.path("entries_uri").asText(ENTRIES_URI));
  }

  /** A PEM PKCS #8 RSA private key, as in service account key files. */
  static PrivateKey key(String pem) {
    var body =
        pem.replace("-----BEGIN PRIVATE KEY-----", "")
            .replace("-----END PRIVATE KEY-----", "")
            .replace("\\n", "")
            .replaceAll("\\s", "");
    try {
      return KeyFactory.getInstance("RSA")
          .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "auth_config.private_key: not a PEM PKCS #8 RSA private key (expected: -----BEGIN"
              + " PRIVATE KEY----- ..., as in a service account's key file)");
    }
  }

  /** The service account's access token, fetched when needed and kept until it nearly expires. */
  static final class OAuth {
    private final AuthConfig auth;
    private final PrivateKey key;
    private final boolean verify;
    private final PluginServices services;
    private String token;
    private long expiresAtMillis;

    OAuth(AuthConfig auth, PrivateKey key, boolean verify, PluginServices services) {
      this.auth = auth;
      this.key = key;
      this.verify = verify;
      this.services = services;
    }

    /** The Authorization header's value; fetches a token first when there is none left. */
    synchronized String authorization() throws IOException, InterruptedException {
      if (token == null || System.currentTimeMillis() > expiresAtMillis - 60_000) {
        refresh();
      }
      return token;
    }

    private void refresh() throws IOException, InterruptedException {
      var tokenUri = auth.tokenUri() == null ? TOKEN_URI : auth.tokenUri();
      var form =
          "grant_type="
              + URLEncoder.encode(
                  "urn:ietf:params:oauth:grant-type:jwt-bearer", StandardCharsets.UTF_8)
              + "&assertion="
              + URLEncoder.encode(jwt(tokenUri, Instant.now()), StandardCharsets.UTF_8);
      var req =
          HttpRequest.newBuilder(URI.create(tokenUri))
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString(form))
              .build();
      var res = LogPost.client(services, verify).send(req, HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() != 200) {
        throw new IOException(tokenUri + " refused the service account: " + res.statusCode());
      }
      var json = ModelJson.mapper().readTree(res.body());
      if (!json.path("access_token").isTextual()) {
        throw new IOException(tokenUri + " answered no access_token");
      }
      var type = json.path("token_type").asText("Bearer");
      token = (type.isEmpty() ? "Bearer" : type) + " " + json.get("access_token").asText();
      expiresAtMillis = System.currentTimeMillis() + json.path("expires_in").asLong(3600) * 1000;
    }

    /** The signed assertion: iss, aud (the token URI), scope, iat, exp an hour later. */
    String jwt(String tokenUri, Instant now) {
      var enc = Base64.getUrlEncoder().withoutPadding();
      var m = ModelJson.mapper();
      var header = m.createObjectNode().put("alg", "RS256").put("typ", "JWT");
      var scope = auth.scope() == null || auth.scope().isEmpty() ? SCOPE : auth.scope();
      var claims =
          m.createObjectNode()
              .put("iss", auth.clientEmail())
              .put("aud", tokenUri)
              .put("scope", String.join(" ", scope))
              .put("iat", now.getEpochSecond())
              .put("exp", now.getEpochSecond() + 3600);
      var signed =
          enc.encodeToString(header.toString().getBytes(StandardCharsets.UTF_8))
              + "."
              + enc.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
      try {
        var sig = Signature.getInstance("SHA256withRSA");
        sig.initSign(key);
        sig.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + enc.encodeToString(sig.sign());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("RS256 signing failed", e);
      }
    }
  }
}
