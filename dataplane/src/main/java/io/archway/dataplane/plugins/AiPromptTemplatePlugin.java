package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * ai-prompt-template: the request names one of the configured templates ({@code template_name} in
 * its JSON body) and gives the values of its {@code {{name}}} placeholders as fields of the same
 * body; the body becomes the template (its {@code model} and {@code messages}) filled in, as
 * APISIX's body-transformer renders it. Values are inserted JSON-escaped, so a value cannot change
 * the shape of the body; a placeholder with no value becomes empty.
 */
@PluginTraits(category = Plugin.Category.AI, dryRun = Plugin.DryRun.RUNS)
public final class AiPromptTemplatePlugin implements Plugin<AiPromptTemplatePlugin.Config> {

  /** The configuration; schema {@code ai-prompt-template.json}. */
  public record Config(long maxReqBodySize, List<NamedTemplate> templates) {}

  /** A template and the name requests call it by. */
  public record NamedTemplate(String name, ObjectNode template) {}

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z0-9_.]+)\\s*}}");

  @Override
  public String name() {
    return "ai-prompt-template";
  }

  @Override
  public int priority() {
    return 1071;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var byName = new HashMap<String, String>();
    for (var t : conf.templates()) {
      // The template as JSON text: placeholders sit inside its strings.
      byName.putIfAbsent(t.name(), t.template().toString());
    }
    var templates = Map.copyOf(byName);
    long max = conf.maxReqBodySize();
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        return LlmBodies.withJsonBody(ctx, max, body -> fill(ctx, templates, body));
      }
    };
  }

  private static Outcome fill(PluginContext ctx, Map<String, String> templates, ObjectNode body) {
    var name = body.get("template_name");
    if (name == null || name.isNull()) {
      return Outcome.message(400, "template name is missing in request.");
    }
    var template = templates.get(name.asText());
    if (template == null) {
      return Outcome.message(400, "template: " + name.asText() + " not configured.");
    }
    var m = PLACEHOLDER.matcher(template);
    var out = new StringBuilder(template.length() + 64);
    while (m.find()) {
      var v = value(body, m.group(1));
      // Inside a JSON string of the template: the value is escaped as JSON string content.
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(escape(v)));
    }
    m.appendTail(out);
    JsonNode filled;
    try {
      filled = ModelJson.mapper().readTree(out.toString());
    } catch (IOException e) {
      return Outcome.message(500, "failed to render template: " + name.asText());
    }
    LlmBodies.jsonBody(ctx, filled);
    return Outcome.CONTINUE;
  }

  /** A field of the body, {@code a.b} for a nested one; text as it is, anything else as JSON. */
  private static String value(ObjectNode body, String path) {
    JsonNode n = body;
    for (var part : path.split("\\.")) {
      n = n.path(part);
    }
    if (n.isMissingNode() || n.isNull()) {
      return "";
    }
    return n.isValueNode() ? n.asText() : n.toString();
  }

  private static String escape(String s) {
    var quoted = com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
    return quoted.substring(1, quoted.length() - 1);
  }
}
