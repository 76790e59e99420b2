package io.archway.dataplane.plugin;

/**
 * A plugin on stream (L4) routes, APISIX's {@code stream_plugins}: the connection-level counterpart
 * of {@link Plugin}. Its configuration is a record bound from a configuration its stream schema
 * ({@code io/archway/model/plugins/stream/<name>.json}, {@link
 * io.archway.model.StreamPluginSchemas}) accepted, with the schema's defaults, and compiled once
 * per config change into a {@link StreamPluginInstance}, which connections run: {@code preread}
 * when one is accepted, before the upstream is connected, and {@code log} when it closes.
 *
 * <p>The built-in ones are {@code io.archway.dataplane.plugins.Stream<Name>} (APISIX's stream
 * plugins share the HTTP plugins' names, hence the prefix), registered as {@link
 * java.util.ServiceLoader} providers of this interface ({@link StreamPluginRegistry}).
 *
 * @param <C> the configuration record
 */
public interface StreamPlugin<C extends Record> {

  /** The APISIX name, e.g. {@code ip-restriction}; also the name of its stream schema file. */
  String name();

  /** The order plugins run in: higher first, APISIX's priorities. */
  int priority();

  /** The record the configuration is bound to. */
  Class<C> configType();

  /**
   * Compiles a configuration its schema accepted, with the schema's defaults filled in.
   *
   * @throws IllegalArgumentException naming the field at fault, for what the schema cannot say
   */
  StreamPluginInstance compile(C conf, PluginScope scope);
}
