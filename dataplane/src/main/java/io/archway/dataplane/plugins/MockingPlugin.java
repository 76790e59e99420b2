package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.BuildInfo;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * mocking: answers in the access phase instead of the upstream, after {@code delay} seconds, with
 * {@code response_status}, {@code content_type}, {@code response_headers} and {@code x-mock-by}
 * (unless {@code with_mock_header: false}). The body is {@code response_example} with its variables
 * filled in, or, without one, a value made from {@code response_schema} as APISIX makes it (each
 * property by its type, its {@code example} when it has one, else a random value; arrays of one to
 * three items) written as JSON, or as XML under {@code <data>} for an XML content type.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class MockingPlugin implements Plugin<MockingPlugin.Config> {

  private static final Set<String> CONTENT_TYPES =
      Set.of("application/xml", "application/json", "text/plain", "text/html", "text/xml");

  /** The configuration; schema {@code mocking.json}. */
  public record Config(
      int delay,
      int responseStatus,
      String contentType,
      String responseExample,
      ObjectNode responseSchema,
      boolean withMockHeader,
      Map<String, Object> responseHeaders) {}

  @Override
  public String name() {
    return "mocking";
  }

  @Override
  public int priority() {
    return 9900;
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
    var type = mediaType(conf.contentType());
    if (!CONTENT_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "content_type: \""
              + conf.contentType()
              + "\" (expected: one of application/json, application/xml, text/plain, text/html,"
              + " text/xml, with parameters or not)");
    }
    boolean xml = type.equals("application/xml") || type.equals("text/xml");
    if (conf.responseExample() == null
        && !xml
        && !type.equals("application/json")
        && !type.equals("text/plain")) {
      throw new IllegalArgumentException(
          "content_type: \""
              + conf.contentType()
              + "\" (expected: a JSON, XML or text/plain type to write a response_schema's"
              + " example in)");
    }
    var headers = new DefaultHttpHeaders();
    headers.set(HttpHeaderNames.CONTENT_TYPE, conf.contentType());
    if (conf.responseHeaders() != null) {
      conf.responseHeaders().forEach((k, v) -> headers.set(k, String.valueOf(v)));
    }
    if (conf.withMockHeader()) {
      headers.set("x-mock-by", "Archway/" + BuildInfo.current().version());
    }
    var example = conf.responseExample() == null ? null : Template.of(conf.responseExample());
    var schema = conf.responseSchema();
    long delayNanos = TimeUnit.SECONDS.toNanos(conf.delay());
    int status = conf.responseStatus();
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        if (delayNanos == 0) {
          return answer(ctx);
        }
        return ctx.after(delayNanos, () -> answer(ctx)); // not waited in a dry-run: reported
      }

      private Outcome answer(PluginContext ctx) {
        String body;
        if (example != null) {
          body = example.render(ctx);
        } else {
          var value = generate(schema, ThreadLocalRandom.current());
          body = xml ? xml("data", value) : value.toString();
        }
        return Outcome.respond(status, headers, body.getBytes(StandardCharsets.UTF_8));
      }
    };
  }

  private static String mediaType(String contentType) {
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi))
        .strip()
        .toLowerCase(Locale.ROOT);
  }

  /** An example value of {@code schema}, made as APISIX's mocking makes it. */
  static JsonNode generate(JsonNode schema, Random random) {
    var f = JsonNodeFactory.instance;
    var type = schema.path("type").asText("").toLowerCase(Locale.ROOT);
    var example = schema.get("example");
    switch (type) {
      case "object" -> {
        var out = f.objectNode();
        schema
            .path("properties")
            .properties()
            .forEach(e -> out.set(e.getKey(), generate(e.getValue(), random)));
        return out;
      }
      case "array" -> {
        if (!schema.has("items")) {
          return f.nullNode();
        }
        ArrayNode out = f.arrayNode();
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
          out.add(generate(schema.get("items"), random));
        }
        return out;
      }
      case "string" -> {
        if (example != null && example.isTextual()) {
          return example;
        }
        var chars = new char[1 + random.nextInt(10)];
        for (int i = 0; i < chars.length; i++) {
          chars[i] = (char) ('a' + random.nextInt(26));
        }
        return f.textNode(new String(chars));
      }
      case "number" -> {
        return example != null && example.isNumber()
            ? example
            : f.numberNode(random.nextDouble() * 10000);
      }
      case "integer" -> {
        return example != null && example.isNumber()
            ? f.numberNode((long) Math.floor(example.doubleValue()))
            : f.numberNode(1 + random.nextInt(10000));
      }
      case "boolean" -> {
        return example != null && example.isBoolean()
            ? example
            : f.booleanNode(random.nextBoolean());
      }
      default -> {
        return f.nullNode();
      }
    }
  }

  /** {@code value} as XML under {@code <tag>}: an array repeats the tag, null is left out. */
  static String xml(String tag, JsonNode value) {
    var out = new StringBuilder();
    xml(tag, value, out);
    return out.toString();
  }

  private static void xml(String tag, JsonNode value, StringBuilder out) {
    if (value == null || value.isNull()) {
      return;
    }
    if (value.isArray()) {
      for (var v : value) {
        xml(tag, v, out);
      }
      return;
    }
    out.append('<').append(tag).append('>');
    if (value.isObject()) {
      value.properties().forEach(e -> xml(e.getKey(), e.getValue(), out));
    } else {
      escape(value.asText(), out);
    }
    out.append("</").append(tag).append('>');
  }

  private static void escape(String s, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        default -> out.append(c);
      }
    }
  }
}
