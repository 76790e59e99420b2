package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.netty.handler.codec.http.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * echo: replaces the response body ({@code body}), or wraps it ({@code before_body}, {@code
 * after_body}), and sets {@code headers}.
 */
public final class EchoPlugin implements Plugin {

  @Override
  public String name() {
    return "echo";
  }

  @Override
  public int priority() {
    return 412;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    var before = bytes(conf, "before_body");
    var body = bytes(conf, "body");
    var after = bytes(conf, "after_body");
    var headers = HeaderOps.parse(conf.get("headers"), "headers");
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

  private static byte[] bytes(ObjectNode conf, String field) {
    return conf.has(field)
        ? conf.get(field).asText().getBytes(StandardCharsets.UTF_8)
        : new byte[0];
  }
}
