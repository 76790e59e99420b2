package io.archway.dataplane.plugins;

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

  RateKey(String type, String key) {
    this.type = type;
    this.key = key;
    this.template = Template.of(key);
  }

  /** limit-req and limit-conn count in this process only; shared counts are limit-count's. */
  static void localPolicyOnly(String policy) {
    if (!policy.equals("local")) {
      throw new IllegalArgumentException(
          "policy: \"" + policy + "\" (expected: local; shared counts are limit-count's)");
    }
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
