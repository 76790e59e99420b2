package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * log-rotate: APISIX rotates nginx's access log; Archway's is the file of {@code --access-log}
 * ({@code pipeline/AccessLog}), which its writer thread rotates by the settings of {@code
 * plugin_metadata/log-rotate} (APISIX's {@code plugin_attr.log-rotate}): every {@code interval}
 * seconds (default 3600) or past {@code max_size} bytes (default -1: no bound), keeping {@code
 * max_kept} rotated files (default 168), gzipped with {@code enable_compression}. The plugin itself
 * checks those settings when they change; on a route it does nothing, as in APISIX.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class LogRotatePlugin implements Plugin<LogRotatePlugin.Config> {

  /** The configuration; schema {@code log-rotate.json} (empty, as APISIX's). */
  public record Config() {}

  @Override
  public String name() {
    return "log-rotate";
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.noneOf(Phase.class);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new PluginInstance() {};
  }

  /** Checks the rotation settings; the access log reads them from the metadata when it writes. */
  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    if (value == null) {
      return;
    }
    var it = value.fieldNames();
    while (it.hasNext()) {
      var f = it.next();
      var v = value.get(f);
      switch (f) {
        case "interval" -> {
          if (!v.isNumber() || v.asDouble() <= 0) {
            throw new IllegalArgumentException(
                "interval: " + v + " (expected: seconds between rotations, more than 0)");
          }
        }
        case "max_kept" -> {
          if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
            throw new IllegalArgumentException(
                "max_kept: " + v + " (expected: an integer, at least 1)");
          }
        }
        case "max_size" -> {
          if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException(
                "max_size: " + v + " (expected: bytes, an integer; -1 for no bound)");
          }
        }
        case "enable_compression" -> {
          if (!v.isBoolean()) {
            throw new IllegalArgumentException(
                "enable_compression: " + v + " (expected: true or false)");
          }
        }
        default ->
            throw new IllegalArgumentException(
                f
                    + ": unknown field (expected: enable_compression, interval, max_kept,"
                    + " max_size)");
      }
    }
  }
}
