package io.archway.operator.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.model.UpstreamNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The node data of apisix-seed's ZooKeeper layout: a service's znode ({@code <root>/<service
 * name>}) holds a JSON array of nodes, {@code [{"host":"10.0.0.1","port":8080,"weight":100}]}, or
 * one node object (apisix-seed's first layout, where {@code host} may carry the port: {@code
 * "10.0.0.1:8080"}). {@code weight} defaults to the registry's default weight. Empty data is no
 * nodes.
 */
final class ZooKeeperNodes {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ZooKeeperNodes() {}

  /**
   * The nodes in {@code data}.
   *
   * @throws IllegalArgumentException naming the first fault, e.g. {@code [0].port: 0 (expected:
   *     1..65535)}
   */
  static List<UpstreamNode> parse(byte[] data, int defaultWeight) {
    if (data == null || data.length == 0) {
      return List.of();
    }
    JsonNode root;
    try {
      root = JSON.readTree(data);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "not JSON (expected: [{\"host\":...,\"port\":...,\"weight\":...}])");
    }
    if (root == null || root.isMissingNode()) {
      return List.of();
    }
    var out = new ArrayList<UpstreamNode>();
    if (root.isArray()) {
      for (int i = 0; i < root.size(); i++) {
        out.add(node(root.get(i), "[" + i + "]", defaultWeight));
      }
    } else {
      out.add(node(root, "", defaultWeight));
    }
    return out;
  }

  private static UpstreamNode node(JsonNode n, String at, int defaultWeight) {
    if (!n.isObject()) {
      throw new IllegalArgumentException(
          (at.isEmpty() ? "" : at + ": ") + n + " (expected: an object with host and port)");
    }
    var hostField = n.get("host");
    if (hostField == null || !hostField.isTextual() || hostField.asText().isBlank()) {
      throw new IllegalArgumentException(at + ".host: missing (expected: an address or a name)");
    }
    var host = hostField.asText().strip();
    Integer port = null;
    // "10.0.0.1:8080" and "[::1]:8080" carry their port; a bare IPv6 address does not.
    int colon = host.lastIndexOf(':');
    if (colon > 0 && (host.startsWith("[") || host.indexOf(':') == colon)) {
      port = number(host.substring(colon + 1), at + ".host", 1, 65535);
      host = host.substring(0, colon);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (n.has("port")) {
      port = number(n.get("port").asText(), at + ".port", 1, 65535);
    }
    int weight =
        n.has("weight")
            ? number(n.get("weight").asText(), at + ".weight", 0, 65535)
            : defaultWeight;
    return new UpstreamNode(host, port, weight, null, null);
  }

  private static int number(String v, String at, int min, int max) {
    try {
      int n = Integer.parseInt(v.strip());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    throw new IllegalArgumentException(
        at + ": \"" + v + "\" (expected: an integer " + min + ".." + max + ")");
  }
}
