package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.support.GoogleServiceAccount;
import io.archway.dataplane.support.TlsSockets;
import io.archway.model.Secret;
import io.archway.model.ValueRefs;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@link SecretStore}'s reads from Google Secret Manager ({@code secrets/gcp/<id>}), as APISIX's
 * {@code secret/gcp.lua}: authenticated as the manager's service account ({@code auth_config}, or
 * the key file {@code auth_file}), whose token is kept per manager until it nearly expires.
 */
final class GcpSecretManager {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Supplier<HttpClient> http;
  // For managers with ssl_verify false, made when one needs it.
  private volatile HttpClient trusting;
  // A manager's service account (its auth_file read once), with the token it holds.
  private final Map<Secret, Gcp> accounts = new ConcurrentHashMap<>();

  private record Gcp(Secret.GcpAuth auth, GoogleServiceAccount account) {}

  GcpSecretManager(Supplier<HttpClient> http) {
    this.http = http;
  }

  /** Forgets the accounts of managers that are gone or changed. */
  void retain(Map<String, Secret> managers) {
    accounts.keySet().removeIf(s -> !s.equals(managers.get(s.id())));
  }

  /**
   * Secret Manager's access of the latest version of {@code path}, as APISIX reads it: the
   * payload's {@code data} (base64) is a JSON object whose fields are the keys. The service
   * account's token comes from its token endpoint (see {@link GoogleServiceAccount}).
   */
  JsonNode read(Secret s, String path) throws ValueRefs.Unresolved {
    var where = "gcp secrets/" + s.id();
    var gcp = accounts.get(s);
    if (gcp == null) {
      var auth = s.authConfig() != null ? s.authConfig() : authFile(s);
      PrivateKey key;
      try {
        key = GoogleServiceAccount.privateKey(auth.privateKey(), "auth_config.private_key");
      } catch (IllegalArgumentException e) {
        throw new ValueRefs.Unresolved(where + ": " + e.getMessage());
      }
      gcp =
          new Gcp(
              auth,
              new GoogleServiceAccount(
                  new GoogleServiceAccount.Credentials(
                      auth.clientEmail(),
                      key,
                      auth.tokenUri(),
                      List.of(auth.scopes().trim().split(" +"))),
                  client(s)));
      accounts.put(s, gcp);
    }
    var auth = gcp.auth();
    String authorization;
    try {
      authorization = gcp.account().authorization();
    } catch (IOException e) {
      // Read again next time: the key file may have been fixed.
      accounts.remove(s);
      throw new ValueRefs.Unresolved(where + ": no access token: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ValueRefs.Unresolved(where + ": interrupted");
    }
    var base = auth.entriesUri().endsWith("/") ? auth.entriesUri() : auth.entriesUri() + "/";
    var uri =
        base
            + "projects/"
            + SecretStore.trim(auth.projectId())
            + "/secrets/"
            + SecretStore.trim(path)
            + "/versions/latest:access";
    var req =
        HttpRequest.newBuilder(SecretStore.uri(uri, s))
            .timeout(SecretStore.TIMEOUT)
            .header("Authorization", authorization)
            .header("Content-Type", "application/json")
            .GET()
            .build();
    var body = SecretStore.send(client(s), req, s, "access " + path);
    var data = body.path("payload").path("data");
    if (!data.isTextual()) {
      throw new ValueRefs.Unresolved(where + ": access " + path + ": no payload.data");
    }
    try {
      var doc = JSON.readTree(Base64.getDecoder().decode(data.textValue()));
      if (doc != null && doc.isObject()) {
        return doc;
      }
    } catch (IOException | IllegalArgumentException e) {
      // Reported below, without the payload.
    }
    throw new ValueRefs.Unresolved(
        where + ": the secret " + path + " is not a JSON object (expected: key/value pairs)");
  }

  /** A gcp manager's {@code auth_file}: a service account key file, read when it is needed. */
  private static Secret.GcpAuth authFile(Secret s) throws ValueRefs.Unresolved {
    var where = "gcp secrets/" + s.id() + ": auth_file \"" + s.authFile() + "\"";
    JsonNode json;
    try {
      json = JSON.readTree(Files.readAllBytes(Path.of(s.authFile())));
    } catch (IOException | RuntimeException e) {
      throw new ValueRefs.Unresolved(where + " cannot be read as JSON");
    }
    for (var f : List.of("client_email", "private_key", "project_id")) {
      if (json == null || !json.path(f).isTextual()) {
        throw new ValueRefs.Unresolved(
            where + " has no " + f + " (expected: a service account key file)");
      }
    }
    return new Secret.GcpAuth(
        json.get("client_email").asText(),
        json.get("private_key").asText(),
        json.get("project_id").asText(),
        json.path("token_uri").asText(Secret.GCP_TOKEN_URI),
        json.path("scopes").asText("https://www.googleapis.com/auth/cloud-platform"),
        json.path("entries_uri").asText(Secret.GCP_ENTRIES_URI));
  }

  /** The client for {@code s}: gcp's {@code ssl_verify: false} trusts any certificate. */
  private HttpClient client(Secret s) {
    if (!Boolean.FALSE.equals(s.sslVerify())) {
      return http.get();
    }
    var c = trusting;
    if (c == null) {
      c =
          HttpClient.newBuilder()
              .connectTimeout(SecretStore.TIMEOUT)
              .followRedirects(HttpClient.Redirect.NEVER)
              .sslContext(TlsSockets.trustAllContext())
              .build();
      trusting = c;
    }
    return c;
  }
}
