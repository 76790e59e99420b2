package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.support.SigV4;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AWS Comprehend's {@code DetectToxicContent}, signed with {@link SigV4}, sent with the plugins'
 * JDK client off the event loop, and the answer judged as APISIX's AWS moderation plugins do: a
 * label named in {@code moderation_categories} whose score is above its threshold refuses the
 * request (400 "request body exceeds NAME threshold"), else a toxicity above the threshold (400
 * "request body exceeds toxicity threshold"); a failed call or an answer without results is 500.
 */
final class Comprehend {

  private static final Logger LOG = LoggerFactory.getLogger(Comprehend.class);
  static final String TARGET = "Comprehend_20171127.DetectToxicContent";

  private final URI uri;
  private final String accessKey;
  private final String secretKey;
  private final String region;
  private final HttpClient client;
  private final Map<String, Double> categories;
  private final double threshold;

  Comprehend(
      String endpoint,
      String accessKey,
      String secretKey,
      String region,
      boolean sslVerify,
      Map<String, Double> categories,
      double threshold,
      PluginServices services) {
    var base = endpoint != null ? endpoint : "https://comprehend." + region + ".amazonaws.com";
    var parsed = URI.create(base);
    // As APISIX: the endpoint's scheme, host and port; its path is not used.
    this.uri =
        URI.create(
            parsed.getScheme()
                + "://"
                + parsed.getRawAuthority().substring(parsed.getRawAuthority().indexOf('@') + 1)
                + "/");
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.region = region;
    this.client = sslVerify ? services.http() : services.httpUnverified();
    this.categories = categories == null ? Map.of() : Map.copyOf(categories);
    this.threshold = threshold;
  }

  /** Checks the text segments; the stage gives the refusal, or {@code CONTINUE}. */
  CompletionStage<Outcome> check(List<String> segments) {
    var req = ModelJson.mapper().createObjectNode();
    req.put("LanguageCode", "en");
    var list = req.putArray("TextSegments");
    segments.forEach(s -> list.addObject().put("Text", s));
    byte[] body;
    try {
      body = ModelJson.mapper().writeValueAsBytes(req);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    var fields = new LinkedHashMap<String, String>();
    fields.put("Content-Type", "application/x-amz-json-1.1");
    fields.put("X-Amz-Target", TARGET);
    var signed =
        SigV4.sign(
            "POST",
            uri,
            fields,
            body,
            new SigV4.Credentials(accessKey, secretKey, null),
            region,
            "comprehend",
            Instant.now());
    var http =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Date", signed.get("X-Amz-Date"))
            .header("X-Amz-Target", TARGET)
            .header("Authorization", signed.get("Authorization"))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return client
        .sendAsync(http, HttpResponse.BodyHandlers.ofByteArray())
        .handle(
            (res, err) -> {
              if (err != null) {
                LOG.error("failed to send request to {}: {}", uri, err.toString());
                return text(500, err.getMessage() == null ? err.toString() : err.getMessage());
              }
              return judge(res);
            });
  }

  private Outcome judge(HttpResponse<byte[]> res) {
    JsonNode json;
    try {
      json = ModelJson.mapper().readTree(res.body());
    } catch (IOException e) {
      json = null;
    }
    if (res.statusCode() > 299) {
      LOG.error(
          "comprehend answered {}: {}",
          res.statusCode(),
          new String(res.body(), StandardCharsets.UTF_8));
      return text(500, new String(res.body(), StandardCharsets.UTF_8));
    }
    var results = json == null ? null : json.path("ResultList");
    if (results == null || !results.isArray() || results.isEmpty()) {
      return text(500, "failed to get moderation results from response");
    }
    for (var result : results) {
      if (!categories.isEmpty()) {
        for (var label : result.path("Labels")) {
          var limit = categories.get(label.path("Name").asText());
          if (limit != null && label.path("Score").asDouble() > limit) {
            return text(400, "request body exceeds " + label.path("Name").asText() + " threshold");
          }
        }
      }
      if (result.path("Toxicity").asDouble() > threshold) {
        return text(400, "request body exceeds toxicity threshold");
      }
    }
    return Outcome.CONTINUE;
  }

  /** APISIX's {@code return code, "text"}: the text as a plain body. */
  static Outcome text(int status, String message) {
    return Outcome.respond(
        status,
        new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8"),
        message.getBytes(StandardCharsets.UTF_8));
  }
}
