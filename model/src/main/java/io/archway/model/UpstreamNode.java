package io.archway.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One upstream node. {@code port} is {@code null} when the node was written without one (the
 * scheme's default port applies); {@code priority} groups nodes, higher first, default 0.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpstreamNode(
    String host, Integer port, int weight, Integer priority, ObjectNode metadata) {

  public int priorityOrDefault() {
    return priority == null ? 0 : priority;
  }

  /** {@code host:port} as the map form writes it, with brackets around IPv6 addresses. */
  public String address() {
    var h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    return port == null ? h : h + ":" + port;
  }

  static UpstreamNode read(Fields f, String path) {
    var host = f.requiredString("host", Fields.Check.length(1, 253), Addresses.HOST_NAME);
    var port = f.integer("port", 1, 65535);
    Integer weight = f.integer("weight", 0, 65535);
    f.required("weight", "integer 0..65535");
    var priority = f.integer("priority", Integer.MIN_VALUE, Integer.MAX_VALUE);
    var metadata = f.object("metadata");
    if (host == null || weight == null) {
      return null;
    }
    return new UpstreamNode(stripBrackets(host), port, weight, priority, metadata);
  }

  /**
   * Parses a map-form key: {@code host:port}, {@code [v6]:port}, {@code host}, or a bare IPv6
   * address (more than one colon, no brackets) which has no port.
   */
  static UpstreamNode fromMapKey(String key, int weight) {
    if (key.startsWith("[")) {
      int close = key.indexOf(']');
      if (close < 0) {
        return null;
      }
      var host = key.substring(1, close);
      var rest = key.substring(close + 1);
      if (rest.isEmpty()) {
        return new UpstreamNode(host, null, weight, null, null);
      }
      if (!rest.startsWith(":")) {
        return null;
      }
      var port = parsePort(rest.substring(1));
      return port == null ? null : new UpstreamNode(host, port, weight, null, null);
    }
    int first = key.indexOf(':');
    if (first < 0) {
      return new UpstreamNode(key, null, weight, null, null);
    }
    if (key.indexOf(':', first + 1) >= 0) {
      return new UpstreamNode(key, null, weight, null, null);
    }
    var port = parsePort(key.substring(first + 1));
    return port == null
        ? null
        : new UpstreamNode(key.substring(0, first), port, weight, null, null);
  }

  private static Integer parsePort(String s) {
    try {
      int p = Integer.parseInt(s);
      return p >= 1 && p <= 65535 ? p : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
