package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * attach-consumer-label: the identified consumer's {@code labels} copied into request fields
 * ({@code headers}: field name to {@code $label}). As APISIX: no consumer, or a consumer without
 * labels, leaves the request alone; a consumer with labels but not the one named has the field
 * removed, so a client cannot pass a value of its own off as the consumer's.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class AttachConsumerLabelPlugin implements Plugin<AttachConsumerLabelPlugin.Config> {

  /** The configuration; schema {@code attach-consumer-label.json}. */
  public record Config(Map<String, String> headers) {}

  @Override
  public String name() {
    return "attach-consumer-label";
  }

  @Override
  public int priority() {
    return 2399;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    // APISIX runs it in before_proxy; access is the last request phase here, after every auth
    // plugin's rewrite.
    return EnumSet.of(Phase.ACCESS);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    if (conf.headers().isEmpty()) {
      throw new IllegalArgumentException("headers: {} (expected: at least one header field)");
    }
    var byField = new LinkedHashMap<String, String>();
    conf.headers().forEach((field, label) -> byField.put(field, label.substring(1)));
    var fields = Map.copyOf(byField);
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        var consumer = ctx.consumer();
        if (consumer == null || consumer.labels().isEmpty()) {
          return Outcome.CONTINUE;
        }
        var headers = ctx.request().headers();
        fields.forEach(
            (field, label) -> {
              var value = consumer.labels().get(label);
              if (value == null) {
                headers.remove(field);
              } else {
                headers.set(field, value);
              }
            });
        return Outcome.CONTINUE;
      }
    };
  }
}
