package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.netty.handler.codec.http.HttpResponse;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * request-id: gives each request an id in {@code header_name} (kept when the client sent one),
 * publishes it as {@code request_id}, and returns it in the response.
 */
public final class RequestIdPlugin implements Plugin<RequestIdPlugin.Config> {

  private static final String NANOID =
      "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  /** The configuration; schema {@code request-id.json}. */
  public record Config(
      String headerName, boolean includeInResponse, String algorithm, RangeId rangeId) {}

  /** The settings of algorithm {@code range_id}. */
  public record RangeId(String charSet, int length) {}

  @Override
  public String name() {
    return "request-id";
  }

  @Override
  public int priority() {
    return 12015;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.HEADER_FILTER);
  }

  @Override
  public Set<String> results() {
    return Set.of("request_id");
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var header = conf.headerName();
    boolean inResponse = conf.includeInResponse();
    var algorithm = conf.algorithm();
    var charSet = conf.rangeId().charSet();
    int length = conf.rangeId().length();
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
