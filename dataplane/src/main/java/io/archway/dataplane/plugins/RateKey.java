package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.PluginContext;

/**
 * The key a rate limiter counts by: a variable ({@code key_type: var}, the default, e.g. {@code
 * remote_addr} or {@code http_x_api_user}), several ({@code var_combination}: {@code "$remote_addr
 * $consumer_name"}) or one constant for everyone. A variable the request lacks counts by {@code
 * remote_addr}, as APISIX does.
 */
final class RateKey {

  private final String type;
  private final String key;
  private final Template template;

  RateKey(JsonNode conf) {
    this.type = Conf.text(conf, "key_type", "var");
    this.key = Conf.text(conf, "key", "remote_addr");
    this.template = Template.of(key);
  }

  String of(PluginContext ctx) {
    String v =
        switch (type) {
          case "constant" -> key;
          case "var_combination" -> template.render(ctx);
          default -> ctx.get(key);
        };
    return v == null || v.isEmpty() ? ctx.vars().remoteAddr() : v;
  }
}
