package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A plugin, found by name through {@link java.util.ServiceLoader}. The dataplane compiles each
 * configuration once per config change ({@link #compile}); requests only ever see the compiled
 * {@link PluginInstance}. Names and configuration fields are APISIX's, so routes written for APISIX
 * run unchanged.
 */
public interface Plugin {

  /** The APISIX name, e.g. {@code key-auth}. */
  String name();

  /**
   * The order plugins run in within a phase: higher first, APISIX's priorities (key-auth 2500,
   * limit-count 1002, ...).
   */
  int priority();

  /**
   * Compiles a configuration that {@link io.archway.model.PluginSchemas} has already accepted:
   * parses what it needs (regular expressions, keys, numbers) once.
   *
   * @param conf the configuration as written
   * @param scope where it comes from and the shared services plugins may use
   * @throws IllegalArgumentException naming the field at fault and what was expected
   */
  PluginInstance compile(ObjectNode conf, PluginScope scope);
}
