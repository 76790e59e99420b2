package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Map;

/**
 * What an Admin API call answers: a status, a JSON body (APISIX's shapes) and extra headers ({@code
 * X-Digest}, {@code X-Last-Modified}).
 */
record AdminResponse(int status, JsonNode body, Map<String, String> headers) {

  static AdminResponse json(int status, JsonNode body) {
    return new AdminResponse(status, body, Map.of());
  }

  /** APISIX's error shape, {@code {"error_msg": "..."}}. */
  static AdminResponse error(int status, String message) {
    return json(status, JsonNodeFactory.instance.objectNode().put("error_msg", message));
  }

  AdminResponse withHeader(String name, String value) {
    var h = new java.util.LinkedHashMap<>(headers);
    h.put(name, value);
    return new AdminResponse(status, body, Map.copyOf(h));
  }
}
