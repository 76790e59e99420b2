package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;

/**
 * The LLM providers of APISIX's AI plugins: each provider's default chat completions endpoint, the
 * endpoint a configuration sends to, and the inline upstream that endpoint becomes (so requests to
 * it get the proxy's pools, TLS, timeouts and streaming like any upstream).
 */
final class AiProviders {

  private AiProviders() {}

  /** Providers whose endpoint is known; the others need {@code override.endpoint}. */
  static final Map<String, String> DEFAULT_ENDPOINTS =
      Map.of(
          "openai", "https://api.openai.com/v1/chat/completions",
          "deepseek", "https://api.deepseek.com/chat/completions",
          "aimlapi", "https://api.aimlapi.com/chat/completions",
          "anthropic", "https://api.anthropic.com/v1/chat/completions",
          "openrouter", "https://openrouter.ai/api/v1/chat/completions",
          "gemini", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions");

  /** Where a provider's requests go: scheme, host, port, path and query of the endpoint. */
  record Endpoint(boolean tls, String host, int port, String path, String query) {

    /** The request target: the path, the endpoint's query, then the auth's query parameters. */
    String target(Map<String, String> authQuery) {
      var b = new StringBuilder(path);
      char sep = '?';
      if (query != null && !query.isEmpty()) {
        b.append('?').append(query);
        sep = '&';
      }
      if (authQuery != null) {
        for (var e : authQuery.entrySet()) {
          b.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
          sep = '&';
        }
      }
      return b.toString();
    }

    private static String encode(String s) {
      return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8)
          .replace("+", "%20");
    }
  }

  /**
   * The endpoint of a provider: {@code override.endpoint} when given, else the provider's own
   * (vertex-ai's from {@code provider_conf}).
   *
   * @param field the configuration's path, for messages
   */
  static Endpoint endpoint(String provider, String override, JsonNode providerConf, String field) {
    var url = override;
    if (url == null && "vertex-ai".equals(provider) && providerConf != null) {
      var project = providerConf.path("project_id").asText();
      var region = providerConf.path("region").asText();
      url =
          "https://"
              + region
              + "-aiplatform.googleapis.com/v1beta1/projects/"
              + project
              + "/locations/"
              + region
              + "/endpoints/openapi/chat/completions";
    }
    if (url == null) {
      url = DEFAULT_ENDPOINTS.get(provider);
    }
    if (url == null) {
      throw new IllegalArgumentException(
          field
              + "override.endpoint: missing (expected: the endpoint URL; provider "
              + provider
              + " has no default endpoint)");
    }
    try {
      var u = new URI(url);
      var scheme = u.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme) || u.getHost() == null) {
        throw new URISyntaxException(url, "not an http or https URL");
      }
      boolean tls = scheme.equals("https");
      int port = u.getPort() > 0 ? u.getPort() : tls ? 443 : 80;
      var path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
      var host = u.getHost();
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return new Endpoint(tls, host, port, path, u.getRawQuery());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          field
              + "override.endpoint: \""
              + url
              + "\" (expected: an http or https URL with a host)");
    }
  }

  /**
   * The inline upstream of one instance ({@code provider}, {@code provider_conf}, {@code override},
   * {@code checks}) under a plugin's connection settings ({@code timeout}, {@code keepalive*},
   * {@code ssl_verify}, APISIX's defaults when absent), read before the configuration is checked:
   * {@code null} when it names no usable endpoint (compile then says why).
   */
  static ObjectNode upstreamOf(JsonNode instance, JsonNode plugin) {
    try {
      var e =
          endpoint(
              instance.path("provider").asText(null),
              instance.path("override").path("endpoint").asText(null),
              instance.get("provider_conf"),
              "");
      return upstream(
          e,
          plugin.path("timeout").asInt(30000),
          plugin.path("keepalive").asBoolean(true),
          plugin.path("keepalive_timeout").asInt(60000),
          plugin.path("keepalive_pool").asInt(30),
          plugin.path("ssl_verify").asBoolean(true),
          instance.get("checks"));
    } catch (IllegalArgumentException ex) {
      return null;
    }
  }

  /**
   * The inline upstream for an endpoint: one node, its host in {@code Host} and SNI, the plugin's
   * {@code timeout} for connect, send and each read (so a stream may run long while tokens keep
   * coming), {@code keepalive_*} as the pool, {@code ssl_verify} as the TLS check. No retries: a
   * second try is the fallback's to decide (ai-proxy-multi).
   */
  static ObjectNode upstream(
      Endpoint e,
      int timeoutMillis,
      boolean keepalive,
      int keepaliveTimeoutMillis,
      int keepalivePool,
      boolean sslVerify,
      JsonNode checks) {
    var up = ModelJson.mapper().createObjectNode();
    up.put("type", "roundrobin");
    up.putArray("nodes").addObject().put("host", e.host()).put("port", e.port()).put("weight", 1);
    up.put("scheme", e.tls() ? "https" : "http");
    up.put("pass_host", "node");
    up.put("retries", 0);
    double seconds = timeoutMillis / 1000.0;
    up.putObject("timeout").put("connect", seconds).put("send", seconds).put("read", seconds);
    up.putObject("keepalive_pool")
        .put("size", keepalivePool)
        .put("idle_timeout", keepaliveTimeoutMillis / 1000.0)
        .put("requests", keepalive ? 1000 : 1);
    if (e.tls()) {
      up.putObject("tls").put("verify", sslVerify);
    }
    if (checks != null && checks.isObject()) {
      up.set("checks", checks);
    }
    return up;
  }
}
