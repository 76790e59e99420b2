package io.archway.dataplane.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * A Google service account's access token, as APISIX's google-cloud-logging and its gcp secret
 * manager get one: an RS256 JWT (iss the account's email, aud the token URI, the scopes, an hour
 * long) signed with the account's private key and exchanged at the token URI (OAuth 2.0's JWT
 * bearer grant, RFC 7523). The token is kept until a minute before it expires.
 *
 * <p>{@link #authorization()} blocks on the HTTP exchange: callers run it on I/O threads (the
 * loggers' batchers, the config compiler's thread), never on an event loop.
 */
public final class GoogleServiceAccount {

  /** Google's token endpoint, where key files point. */
  public static final String TOKEN_URI = "https://oauth2.googleapis.com/token";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /**
   * What signs the assertion and where it goes.
   *
   * @param clientEmail the account's email, the JWT's issuer
   * @param key its private key ({@link #privateKey})
   * @param tokenUri where the JWT is exchanged (also its audience)
   * @param scopes the scopes asked for, joined by spaces
   */
  public record Credentials(
      String clientEmail, PrivateKey key, String tokenUri, List<String> scopes) {

    /** Names the account only: the key stays out of messages. */
    @Override
    public String toString() {
      return "Credentials[" + clientEmail + " at " + tokenUri + "]";
    }
  }

  private final Credentials credentials;
  private final HttpClient http;
  private final Clock clock;
  private String token;
  private long expiresAtMillis;

  public GoogleServiceAccount(Credentials credentials, HttpClient http) {
    this(credentials, http, Clock.systemUTC());
  }

  GoogleServiceAccount(Credentials credentials, HttpClient http, Clock clock) {
    this.credentials = credentials;
    this.http = http;
    this.clock = clock;
  }

  public Credentials credentials() {
    return credentials;
  }

  /**
   * The PEM PKCS #8 RSA private key of a service account's key file (its {@code \n} escapes
   * allowed, as a key pasted into YAML keeps them).
   *
   * @param field the field it came from, for the message
   * @throws IllegalArgumentException naming the field, never quoting the key
   */
  public static PrivateKey privateKey(String pem, String field) {
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
          field
              + ": not a PEM PKCS #8 RSA private key (expected: -----BEGIN PRIVATE KEY----- ...,"
              + " as in a service account's key file)");
    }
  }

  /**
   * The {@code Authorization} header's value ({@code Bearer <token>}); fetches a token first when
   * there is none left.
   *
   * @throws IOException when the token endpoint cannot be reached or refuses the account (the
   *     message names the endpoint and the status, never the answer's body)
   */
  public synchronized String authorization() throws IOException, InterruptedException {
    if (token == null || clock.millis() > expiresAtMillis - 60_000) {
      refresh();
    }
    return token;
  }

  private void refresh() throws IOException, InterruptedException {
    var tokenUri = credentials.tokenUri() == null ? TOKEN_URI : credentials.tokenUri();
    var form =
        "grant_type="
            + URLEncoder.encode(
                "urn:ietf:params:oauth:grant-type:jwt-bearer", StandardCharsets.UTF_8)
            + "&assertion="
            + URLEncoder.encode(assertion(tokenUri, clock.instant()), StandardCharsets.UTF_8);
    HttpRequest req;
    try {
      req =
          HttpRequest.newBuilder(URI.create(tokenUri))
              .timeout(TIMEOUT)
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString(form))
              .build();
    } catch (IllegalArgumentException e) {
      throw new IOException("token_uri \"" + tokenUri + "\" is not a valid address");
    }
    var res = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) {
      throw new IOException(tokenUri + " refused the service account: " + res.statusCode());
    }
    JsonNode json;
    try {
      json = JSON.readTree(res.body());
    } catch (IOException e) {
      throw new IOException(tokenUri + " answered something that is not JSON");
    }
    if (json == null || !json.path("access_token").isTextual()) {
      throw new IOException(tokenUri + " answered no access_token");
    }
    var type = json.path("token_type").asText("Bearer");
    token = (type.isEmpty() ? "Bearer" : type) + " " + json.get("access_token").asText();
    expiresAtMillis = clock.millis() + json.path("expires_in").asLong(3600) * 1000;
  }

  /** The signed assertion: iss, aud (the token URI), scope, iat, exp an hour later. */
  public String assertion(String tokenUri, Instant now) {
    var enc = Base64.getUrlEncoder().withoutPadding();
    var header = JSON.createObjectNode().put("alg", "RS256").put("typ", "JWT");
    var claims =
        JSON.createObjectNode()
            .put("iss", credentials.clientEmail())
            .put("aud", tokenUri)
            .put("scope", String.join(" ", credentials.scopes()))
            .put("iat", now.getEpochSecond())
            .put("exp", now.getEpochSecond() + 3600);
    var signed =
        enc.encodeToString(header.toString().getBytes(StandardCharsets.UTF_8))
            + "."
            + enc.encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
    try {
      var sig = Signature.getInstance("SHA256withRSA");
      sig.initSign(credentials.key());
      sig.update(signed.getBytes(StandardCharsets.US_ASCII));
      return signed + "." + enc.encodeToString(sig.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("RS256 signing failed", e);
    }
  }
}
