package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * ai-request-rewrite: sends the client's body to an LLM as the user message after {@code prompt}
 * (the system message), and forwards the LLM's answer (its first choice's content) to the upstream
 * as the new body. The LLM is called with the plugins' HTTP client, off the event loop; an LLM that
 * fails, answers an error or an answer with no content gives the client 500, as APISIX. A request
 * with no body goes on unchanged.
 */
@PluginTraits(category = Plugin.Category.AI)
public final class AiRequestRewritePlugin implements Plugin<AiRequestRewritePlugin.Config> {

  /** The configuration; schema {@code ai-request-rewrite.json}. */
  public record Config(
      String prompt,
      String provider,
      AiProxyPlugin.Auth auth,
      ObjectNode options,
      int timeout,
      boolean keepalive,
      int keepalivePool,
      boolean sslVerify,
      AiProxyPlugin.EndpointOverride override) {}

  @Override
  public String name() {
    return "ai-request-rewrite";
  }

  @Override
  public int priority() {
    return 1073;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var e =
        AiProviders.endpoint(
            conf.provider(), conf.override() == null ? null : conf.override().endpoint(), null, "");
    var host = e.host().indexOf(':') >= 0 ? "[" + e.host() + "]" : e.host();
    var uri =
        URI.create(
            (e.tls() ? "https://" : "http://")
                + host
                + ":"
                + e.port()
                + e.target(conf.auth().query()));
    var headers = conf.auth().header() == null ? Map.<String, String>of() : conf.auth().header();
    return new Rewrite(conf, uri, headers, scope.services());
  }

  private record Rewrite(Config conf, URI uri, Map<String, String> headers, PluginServices services)
      implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      return ctx.withRequestBody(
          LlmCall.MAX_BODY,
          LlmCall.BODY_TIMEOUT_MILLIS,
          body -> body.length == 0 ? Outcome.CONTINUE : ask(ctx, body));
    }

    private Outcome ask(PluginContext ctx, byte[] body) {
      var req = ModelJson.mapper().createObjectNode();
      var messages = req.putArray("messages");
      messages.addObject().put("role", "system").put("content", conf.prompt());
      messages
          .addObject()
          .put("role", "user")
          .put("content", new String(body, StandardCharsets.UTF_8));
      req.put("stream", false);
      if (conf.options() != null) {
        conf.options().fields().forEachRemaining(f -> req.set(f.getKey(), f.getValue()));
      }
      byte[] json;
      try {
        json = ModelJson.mapper().writeValueAsBytes(req);
      } catch (IOException ex) {
        throw new IllegalStateException(ex);
      }
      var b =
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofMillis(conf.timeout()))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(json));
      headers.forEach(b::setHeader);
      HttpClient client = conf.sslVerify() ? services.http() : services.httpUnverified();
      var stage =
          client
              .sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray())
              .handle((res, err) -> err != null ? null : res);
      return Outcome.later(stage, res -> rewritten(ctx, res));
    }

    private Outcome rewritten(PluginContext ctx, HttpResponse<byte[]> res) {
      var content = res == null || res.statusCode() > 299 ? null : content(res.body());
      if (content == null) {
        return Outcome.status(500);
      }
      ctx.requestBody(content.getBytes(StandardCharsets.UTF_8));
      return Outcome.CONTINUE;
    }

    /** The first choice's message content, or {@code null}. */
    private static String content(byte[] body) {
      try {
        JsonNode json = ModelJson.mapper().readTree(body);
        var c = json.path("choices").path(0).path("message").path("content");
        return c.isTextual() ? c.asText() : null;
      } catch (IOException e) {
        return null;
      }
    }
  }
}
