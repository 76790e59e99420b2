package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * One OpenID provider as openid-connect sees it, shared by every configuration naming the same
 * discovery URL (kept in {@code PluginServices}, so a config change keeps its caches): the
 * discovery document and the JWKS, fetched with the JDK client's {@code sendAsync} (never on an
 * event loop) and cached. A failed fetch is forgotten, so the next request tries again. A token
 * naming a {@code kid} the cached JWKS does not have refetches it (keys rotate), at most once a
 * second whatever the traffic, so tokens with made-up key ids cannot hammer the provider.
 */
final class OidcProvider {

  /** The provider's discovery document is cached this long (lua-resty-openidc: a day). */
  static final long DISCOVERY_TTL_MILLIS = 24 * 3600 * 1000L;

  /** The shortest time between two JWKS fetches caused by unknown key ids. */
  static final long REFETCH_MILLIS = 1000;

  /** The keys of one JWKS fetch: by kid, and all of them for tokens without a kid. */
  record Keys(Map<String, PublicKey> byKid, List<PublicKey> all, long fetchedAt) {}

  private final String discoveryUrl;
  private final HttpClient http;
  private CompletableFuture<JsonNode> discovery;
  private long discoveryAt;
  private CompletableFuture<Keys> keys;
  private long keysAt;

  OidcProvider(String discoveryUrl, HttpClient http) {
    this.discoveryUrl = discoveryUrl;
    this.http = http;
  }

  /** The discovery document. */
  synchronized CompletableFuture<JsonNode> discovery(Duration timeout) {
    long now = System.currentTimeMillis();
    if (discovery == null
        || discovery.isCompletedExceptionally()
        || (discovery.isDone() && now - discoveryAt > DISCOVERY_TTL_MILLIS)) {
      discoveryAt = now;
      discovery = getJson(discoveryUrl, timeout);
    }
    return discovery;
  }

  /**
   * The keys for a token: the cached JWKS's entry for {@code kid} (every key for a token without
   * one). When none is there or none {@code fits} (verifies the token: a provider may rotate keys
   * and keep the kid), the JWKS is fetched again, if the last fetch is older than {@link
   * #REFETCH_MILLIS}, and its keys are given whatever they are; a JWKS older than {@code ttlMillis}
   * is fetched again anyway.
   */
  CompletableFuture<List<PublicKey>> keys(
      String kid, Duration timeout, long ttlMillis, Predicate<List<PublicKey>> fits) {
    return jwks(timeout, false, ttlMillis)
        .thenCompose(
            k -> {
              var found = pick(k, kid);
              if ((!found.isEmpty() && fits.test(found)) || !mayRefetch()) {
                return CompletableFuture.completedFuture(found);
              }
              return jwks(timeout, true, ttlMillis).thenApply(k2 -> pick(k2, kid));
            });
  }

  private static List<PublicKey> pick(Keys k, String kid) {
    if (kid == null) {
      return k.all();
    }
    var key = k.byKid().get(kid);
    return key == null ? List.of() : List.of(key);
  }

  private synchronized boolean mayRefetch() {
    return System.currentTimeMillis() - keysAt >= REFETCH_MILLIS;
  }

  private synchronized CompletableFuture<Keys> jwks(
      Duration timeout, boolean refetch, long ttlMillis) {
    long now = System.currentTimeMillis();
    boolean stale = keys != null && keys.isDone() && now - keysAt > ttlMillis;
    boolean again = refetch && keys != null && keys.isDone() && now - keysAt >= REFETCH_MILLIS;
    if (keys == null || keys.isCompletedExceptionally() || stale || again) {
      keysAt = now;
      keys =
          discovery(timeout)
              .thenCompose(
                  d -> {
                    var uri = d.path("jwks_uri").asText(null);
                    if (uri == null) {
                      return CompletableFuture.failedFuture(
                          new IllegalStateException("the discovery document has no jwks_uri"));
                    }
                    return getJson(uri, timeout);
                  })
              .thenApply(OidcProvider::keysOf);
    }
    return keys;
  }

  private static Keys keysOf(JsonNode jwks) {
    var byKid = new HashMap<String, PublicKey>();
    var all = new ArrayList<PublicKey>();
    for (var jwk : jwks.path("keys")) {
      var key = OidcJwt.fromJwk(jwk);
      if (key != null) {
        all.add(key);
        if (jwk.hasNonNull("kid")) {
          byKid.put(jwk.get("kid").asText(), key);
        }
      }
    }
    return new Keys(Map.copyOf(byKid), List.copyOf(all), System.currentTimeMillis());
  }

  /** GET of a JSON document; a status other than 200 or a body that is not JSON fails. */
  CompletableFuture<JsonNode> getJson(String url, Duration timeout) {
    var req =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(timeout)
            .header("Accept", "application/json")
            .GET()
            .build();
    return send(req);
  }

  /** Sends a request whose answer is a JSON object; failures complete exceptionally. */
  CompletableFuture<JsonNode> send(HttpRequest req) {
    return OAuthCodeFlow.sendJson(http, req);
  }
}
