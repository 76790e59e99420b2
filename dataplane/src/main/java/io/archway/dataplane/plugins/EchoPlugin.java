package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;

/**
 * echo: replaces the response body ({@code body}), or wraps it ({@code before_body}, {@code
 * after_body}), and sets {@code headers}.
 */
@PluginTraits(category = Plugin.Category.OTHER, dryRun = Plugin.DryRun.RUNS)
public final class EchoPlugin implements Plugin<EchoPlugin.Config> {

  /** The configuration; schema {@code echo.json}. */
  public record Config(String beforeBody, String body, String afterBody, ObjectNode headers) {}

  @Override
  public String name() {
    return "echo";
  }

  @Override
  public int priority() {
    return 412;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var before = bytes(conf.beforeBody());
    var body = bytes(conf.body());
    var after = bytes(conf.afterBody());
    var headers = HeaderOps.parse(conf.headers(), "headers");
    return new PluginInstance() {
      @Override
      public void headerFilter(PluginContext ctx, HttpResponse response) {
        headers.apply(response.headers(), ctx);
      }

      @Override
      public boolean wantsBody(PluginContext ctx) {
        return true;
      }

      @Override
      public byte[] bodyFilter(PluginContext ctx, byte[] in) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(before);
        out.writeBytes(body != null && body.length > 0 ? body : in);
        out.writeBytes(after);
        return out.toByteArray();
      }
    };
  }

  private static byte[] bytes(String text) {
    return text != null ? text.getBytes(StandardCharsets.UTF_8) : new byte[0];
  }
}
