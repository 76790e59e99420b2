package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

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

  /**
   * For a consumer credential plugin ({@code key-auth}, {@code basic-auth}, {@code jwt-auth}): the
   * field of a consumer's configuration that identifies the consumer, unique among consumers;
   * {@code null} for every other plugin.
   */
  default String credentialField() {
    return null;
  }

  /**
   * Upstreams written inline in a configuration (traffic-split's weighted upstreams), by the key
   * the compiler builds them under, so they get pools, health checks and discovery like any; the
   * plugin finds them again with {@link PluginContext#upstream(String)}. The configuration has not
   * been checked yet: an entry that is not an object is left out.
   */
  default Map<String, JsonNode> inlineUpstreams(ObjectNode conf, String owner) {
    return Map.of();
  }

  /** Whether {@link #inlineUpstreams} can return anything (asked once per compile). */
  default boolean hasInlineUpstreams() {
    return false;
  }
}
