package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A listing's filters and page, as APISIX 3.x reads them: {@code name} and {@code uri} match a part
 * of the object's {@code name} and {@code uri}/{@code uris}, {@code label} is {@code key} or {@code
 * key:value}; {@code page} counts from 1 and {@code page_size} is 10 to 500. Without {@code page}
 * or {@code page_size} the whole list comes back.
 */
record ListFilter(String name, String uri, String labelKey, String labelValue, int page, int size) {

  static ListFilter of(AdminRequest req) throws ResourceApi.BadRequest {
    var label = req.param("label");
    String key = null;
    String value = null;
    if (label != null && !label.isEmpty()) {
      int colon = label.indexOf(':');
      key = colon < 0 ? label : label.substring(0, colon);
      value = colon < 0 ? null : label.substring(colon + 1);
    }
    int page = 0;
    int size = 0;
    if (req.param("page") != null || req.param("page_size") != null) {
      page = number(req, "page", 1, 1, Integer.MAX_VALUE);
      size = number(req, "page_size", 10, 10, 500);
    }
    return new ListFilter(
        blank(req.param("name")), blank(req.param("uri")), key, value, page, size);
  }

  boolean matches(JsonNode v) {
    if (name != null && !v.path("name").asText("").contains(name)) {
      return false;
    }
    if (uri != null && !v.path("uri").asText("").contains(uri)) {
      boolean any = false;
      for (var u : v.path("uris")) {
        any |= u.asText("").contains(uri);
      }
      if (!any) {
        return false;
      }
    }
    if (labelKey != null) {
      var l = v.path("labels").get(labelKey);
      return l != null && (labelValue == null || l.asText().equals(labelValue));
    }
    return true;
  }

  <T> List<T> page(List<T> all) {
    if (page == 0) {
      return all;
    }
    long from = (long) (page - 1) * size;
    if (from >= all.size()) {
      return List.of();
    }
    return all.subList((int) from, (int) Math.min(all.size(), from + size));
  }

  private static int number(AdminRequest req, String name, int dflt, int min, int max)
      throws ResourceApi.BadRequest {
    var v = req.param(name);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new ResourceApi.BadRequest(
        400, name + ": \"" + v + "\" (expected: an integer from " + min + " to " + max + ")");
  }

  private static String blank(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
