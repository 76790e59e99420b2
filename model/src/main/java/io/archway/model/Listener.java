package io.archway.model;

import java.util.List;
import java.util.Map;

/**
 * A port the dataplane opens from configuration (an Archway kind, {@code /apisix/listeners/<id>};
 * APISIX has none): what a Gateway API listener becomes. Routes bind to it by its declared {@code
 * port} ({@code vars: [["server_port", "==", port]]}, a stream route's {@code server_port}).
 *
 * <ul>
 *   <li>{@code HTTP}, {@code HTTPS}: the HTTP pipeline; HTTPS terminates TLS with the ssl objects
 *       of {@code ssl_ids}, chosen by the ClientHello's server name against their {@code snis}, the
 *       first one when none matches.
 *   <li>{@code TLS}: passthrough, the stream route chosen by the ClientHello's server name.
 *   <li>{@code TCP}, {@code UDP}: stream routes.
 * </ul>
 *
 * {@code hostname} is informational: the routes carry the host match.
 */
public record Listener(
    String id,
    String name,
    String desc,
    Integer port,
    Protocol protocol,
    List<String> sslIds,
    String hostname,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  /** What a listener serves. */
  public enum Protocol {
    HTTP,
    HTTPS,
    TLS,
    TCP,
    UDP;

    /** Served by the HTTP pipeline (not a stream). */
    public boolean http() {
      return this == HTTP || this == HTTPS;
    }
  }

  static Listener read(Fields f, String path) {
    var protocol = f.string("protocol", Fields.Check.oneOf("HTTP", "HTTPS", "TLS", "TCP", "UDP"));
    var listener =
        new Listener(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            f.integer("port", 1, 65535),
            protocol == null ? null : Protocol.valueOf(protocol),
            f.strings("ssl_ids", 1, true, Fields.Check.pattern(Fields.ID)),
            f.string("hostname", Fields.Check.length(1, 253), Addresses.HOST_NAME),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    f.required("port", "integer 1..65535, the port clients connect to");
    f.required("protocol", "one of HTTP, HTTPS, TLS, TCP, UDP");
    if (listener.protocol == Protocol.HTTPS) {
      f.required("ssl_ids", "array of at least one ssl id, the certificates served (HTTPS)");
    } else if (listener.protocol != null && f.has("ssl_ids")) {
      f.problem(
          "ssl_ids",
          "set on a " + listener.protocol + " listener (expected: only on HTTPS listeners)");
    }
    return listener;
  }
}
