package io.archway.dataplane.plugin;

import java.util.List;

/**
 * A stream route's compiled plugins, highest priority first.
 *
 * @param names the plugins' names, in the same order (for logs)
 */
public record StreamChain(List<StreamPluginInstance> instances, List<String> names) {

  public static final StreamChain EMPTY = new StreamChain(List.of(), List.of());

  public StreamChain {
    instances = List.copyOf(instances);
    names = List.copyOf(names);
  }

  public boolean isEmpty() {
    return instances.isEmpty();
  }
}
