package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.support.GoogleServiceAccount;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
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
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class GoogleCloudLoggingPlugin
    implements EntryLogger<GoogleCloudLoggingPlugin.Config> {

  static final String TOKEN_URI = GoogleServiceAccount.TOKEN_URI;
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
    var oauth = account(auth, conf.sslVerify(), services);
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

  /** The service account of {@code auth}, its tokens fetched through the loggers' client. */
  static GoogleServiceAccount account(AuthConfig auth, boolean verify, PluginServices services) {
    var scope = auth.scope() == null || auth.scope().isEmpty() ? SCOPE : auth.scope();
    return new GoogleServiceAccount(
        new GoogleServiceAccount.Credentials(
            auth.clientEmail(),
            GoogleServiceAccount.privateKey(auth.privateKey(), "auth_config.private_key"),
            auth.tokenUri() == null ? TOKEN_URI : auth.tokenUri(),
            scope),
        LogPost.client(services, verify));
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
}
