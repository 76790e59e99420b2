package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * consumer-restriction, in the access phase (after the auth plugins identified the consumer): the
 * request's {@code type} value (the consumer's name or group, the route's or service's id) is
 * refused when in {@code blacklist}; else, when not in {@code whitelist}, or with {@code
 * allowed_by_methods} when its entry does not list the request's method, refused with {@code
 * rejected_code} and {@code rejected_msg} ({@code "The <type> is forbidden."}). A request with no
 * such value (no consumer identified) gets 401.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class ConsumerRestrictionPlugin implements Plugin<ConsumerRestrictionPlugin.Config> {

  /** The configuration; schema {@code consumer-restriction.json}. */
  public record Config(
      String type,
      List<String> whitelist,
      List<String> blacklist,
      List<AllowedByMethods> allowedByMethods,
      int rejectedCode,
      String rejectedMsg) {}

  /** The methods one value may use. */
  public record AllowedByMethods(String user, List<String> methods) {}

  @Override
  public String name() {
    return "consumer-restriction";
  }

  @Override
  public int priority() {
    return 2400;
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
    var type = conf.type();
    var black = conf.blacklist() == null ? Set.<String>of() : Set.copyOf(conf.blacklist());
    var white = conf.whitelist() == null ? null : Set.copyOf(conf.whitelist());
    Map<String, Set<String>> methods = null;
    if (conf.allowedByMethods() != null) {
      methods = new HashMap<>();
      for (var a : conf.allowedByMethods()) {
        // The first entry for a value is the one APISIX looks at.
        if (a.user() != null && !methods.containsKey(a.user())) {
          methods.put(a.user(), a.methods() == null ? Set.of() : Set.copyOf(a.methods()));
        }
      }
      methods = Map.copyOf(methods);
    }
    var byMethods = methods;
    var refuse =
        Outcome.message(
            conf.rejectedCode(),
            conf.rejectedMsg() != null ? conf.rejectedMsg() : "The " + type + " is forbidden.");
    var unidentified =
        Outcome.message(
            401, "The request is rejected, please check the " + type + " for this request");
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        var value = value(type, ctx);
        if (value == null) {
          return unidentified;
        }
        if (black.contains(value)) {
          return refuse;
        }
        boolean whitelisted = white != null && white.contains(value);
        boolean block = white != null && !whitelisted;
        if (byMethods != null && !whitelisted) {
          var allowed = byMethods.get(value);
          block = allowed == null || !allowed.contains(ctx.request().method().name());
        }
        return block ? refuse : Outcome.CONTINUE;
      }
    };
  }

  private static String value(String type, PluginContext ctx) {
    return switch (type) {
      case "consumer_name" -> ctx.consumer() == null ? null : ctx.consumer().username();
      case "consumer_group_id" -> ctx.consumer() == null ? null : ctx.consumer().groupId();
      case "service_id" -> ctx.serviceId();
      case "route_id" -> ctx.routeId();
      default -> null;
    };
  }
}
