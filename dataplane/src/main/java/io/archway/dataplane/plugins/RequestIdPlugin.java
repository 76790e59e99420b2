package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.netty.handler.codec.http.HttpResponse;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * request-id: gives each request an id in {@code header_name} (kept when the client sent one),
 * publishes it as {@code request_id}, and returns it in the response.
 */
public final class RequestIdPlugin implements Plugin {

  private static final String NANOID =
      "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  @Override
  public String name() {
    return "request-id";
  }

  @Override
  public int priority() {
    return 12015;
  }

  @Override
  public PluginInstance compile(ObjectNode conf, PluginScope scope) {
    var header = Conf.text(conf, "header_name", "X-Request-Id");
    boolean inResponse = Conf.bool(conf, "include_in_response", true);
    var algorithm = Conf.text(conf, "algorithm", "uuid");
    var range = conf.path("range_id");
    var charSet =
        range
            .path("char_set")
            .asText("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    int length = range.path("length").asInt(16);
    if (charSet.isEmpty() || length < 6) {
      throw new IllegalArgumentException(
          "range_id: char_set empty or length < 6 (expected: length >= 6)");
    }
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var h = ctx.request().headers();
        var id = h.get(header);
        if (id == null || id.isEmpty()) {
          id =
              switch (algorithm) {
                case "nanoid" -> random(NANOID, 21);
                case "range_id" -> random(charSet, length);
                default -> UUID.randomUUID().toString();
              };
          h.set(header, id);
        }
        ctx.publish("request_id", id);
        return Outcome.CONTINUE;
      }

      @Override
      public void headerFilter(PluginContext ctx, HttpResponse response) {
        var id = ctx.result("request_id");
        if (inResponse && id != null && !response.headers().contains(header)) {
          response.headers().set(header, id);
        }
      }
    };
  }

  private static String random(String chars, int n) {
    var r = ThreadLocalRandom.current();
    var out = new char[n];
    for (int i = 0; i < n; i++) {
      out[i] = chars.charAt(r.nextInt(chars.length()));
    }
    return new String(out);
  }
}
