package io.archway.dataplane.plugin;

import java.util.List;

/**
 * A set of plugins found together, registered once as a {@link java.util.ServiceLoader} provider:
 * the built-in plugins come from one of these, so adding a plugin edits no list.
 */
public interface PluginSource {

  /** The plugins; a name the registry already has is an error. */
  List<Plugin<?>> plugins();
}
