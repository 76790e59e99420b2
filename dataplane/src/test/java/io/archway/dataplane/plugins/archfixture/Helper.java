package io.archway.dataplane.plugins.archfixture;

import io.archway.dataplane.plugin.PluginServices;

/** A helper of {@link RunsButServes}: the call is one step away. */
final class Helper {
  private Helper() {}

  static Object gateway(PluginServices services) {
    return services.gateway();
  }
}
