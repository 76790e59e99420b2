package io.archway.dataplane.plugin;

/**
 * What the gateway as a whole tells the plugins that serve APISIX's public endpoints (node-status,
 * server-info, batch-requests, prometheus through public-api): set by the server once its listeners
 * are bound ({@link PluginServices#gateway(GatewayInfo)}).
 */
public interface GatewayInfo {

  /** This node's id (a random UUID made at start, as APISIX's {@code apisix.uid}). */
  String id();

  /** The version of Archway. */
  String version();

  String hostname();

  /** When the dataplane started, in seconds since the epoch. */
  long bootTime();

  /** The plain-HTTP port the gateway serves on (batch-requests sends its sub-requests there). */
  int httpPort();

  /** The client connections, as nginx's stub_status counts them. */
  Connections connections();

  /** {@code /metrics} as the status port serves it (Prometheus text format). */
  String metrics();

  /**
   * The config store's version ({@code etcd_version}): {@code unknown} when not etcd or not known.
   */
  String configStoreVersion();

  /**
   * nginx's stub_status numbers: accepted and handled (the same here), active connections, reading
   * (a request head being read), writing (requests being answered), waiting (idle keep-alive), and
   * total requests.
   */
  record Connections(
      long accepted,
      long handled,
      long active,
      long reading,
      long writing,
      long waiting,
      long total) {}
}
