package io.archway.dataplane.admin;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Map;

/**
 * One Admin API call as the endpoints see it, already authenticated: the body is a copy (the
 * request's buffer is released on the event loop before the call is served elsewhere).
 *
 * @param method upper case ({@code GET}, {@code PUT}, ...)
 * @param path the decoded path, e.g. {@code /apisix/admin/routes/1}
 * @param params the query's parameters
 * @param client the client's address, for the audit log
 */
record AdminRequest(
    String method,
    String path,
    Map<String, List<String>> params,
    HttpHeaders headers,
    byte[] body,
    Role role,
    String client) {

  /** The two roles an {@code X-API-KEY} gives, as APISIX has them. */
  enum Role {
    /** Reads and writes. */
    ADMIN,
    /** Reads only. */
    VIEWER
  }

  /** The first value of query parameter {@code name}, or {@code null}. */
  String param(String name) {
    var v = params.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  boolean flag(String name) {
    var v = param(name);
    return v != null && (v.isEmpty() || v.equals("true") || v.equals("1"));
  }

  boolean writes() {
    return !method.equals("GET") && !method.equals("HEAD");
  }
}
