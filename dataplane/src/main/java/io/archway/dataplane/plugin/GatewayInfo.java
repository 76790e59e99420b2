package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

  /**
   * server-info's report, APISIX's shape: {@code {id, version, hostname, up_time, boot_time,
   * etcd_version}} (the status port's {@code /v1/server_info}).
   */
  default ObjectNode serverInfo() {
    var o = JsonNodeFactory.instance.objectNode();
    long now = System.currentTimeMillis() / 1000;
    o.put("id", id());
    o.put("version", version());
    o.put("hostname", hostname());
    o.put("up_time", now - bootTime());
    o.put("boot_time", bootTime());
    o.put("etcd_version", configStoreVersion());
    return o;
  }
}
