package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginServices;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the entry loggers have in common as plugins: their phases (access, for a copy of the request
 * body; body filter, for the response body; log) and their {@code plugin_metadata}, a {@code
 * log_format} ({@link LogEntries#checkMetadata}).
 */
interface EntryLogger<C extends Record> extends Plugin<C> {

  @Override
  default Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.BODY_FILTER, Phase.LOG);
  }

  @Override
  default void metadata(ObjectNode value, PluginServices services) {
    LogEntries.checkMetadata(value);
  }
}
