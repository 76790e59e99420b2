package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.route.Variables;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;

/**
 * Header changes as proxy-rewrite and response-rewrite write them: {@code {add: {}, set: {},
 * remove: []}}, or APISIX's older flat form (name → value, {@code ""} removes). Values may hold
 * variables.
 */
final class HeaderOps {

  private record Op(String name, Template value) {}

  private final List<Op> add = new ArrayList<>();
  private final List<Op> set = new ArrayList<>();
  private final List<String> remove = new ArrayList<>();

  static HeaderOps parse(JsonNode headers, String at) {
    var ops = new HeaderOps();
    if (headers == null || headers.isNull()) {
      return ops;
    }
    boolean structured =
        headers.has("add") && headers.get("add").isObject()
            || headers.has("set") && headers.get("set").isObject()
            || headers.has("remove") && headers.get("remove").isArray();
    if (structured) {
      for (var e : headers.properties()) {
        switch (e.getKey()) {
          case "add" ->
              e.getValue()
                  .properties()
                  .forEach(h -> ops.add.add(op(h.getKey(), h.getValue(), at + ".add")));
          case "set" ->
              e.getValue()
                  .properties()
                  .forEach(h -> ops.set.add(op(h.getKey(), h.getValue(), at + ".set")));
          case "remove" -> e.getValue().forEach(h -> ops.remove.add(h.asText()));
          default ->
              throw new IllegalArgumentException(
                  at + "." + e.getKey() + ": unknown field (expected: add, set or remove)");
        }
      }
      return ops;
    }
    for (var e : headers.properties()) {
      var v = e.getValue();
      if (v.isTextual() && v.textValue().isEmpty()) {
        ops.remove.add(e.getKey());
      } else {
        ops.set.add(op(e.getKey(), v, at));
      }
    }
    return ops;
  }

  private static Op op(String name, JsonNode value, String at) {
    if (!value.isTextual() && !value.isNumber()) {
      throw new IllegalArgumentException(
          at + "." + name + ": " + value + " (expected: a string or a number)");
    }
    if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c >= 127)) {
      throw new IllegalArgumentException(at + ": \"" + name + "\" (expected: a header name)");
    }
    var template = Template.of(value.asText());
    if (template.constant() && !safe(value.asText())) {
      throw new IllegalArgumentException(
          at + "." + name + ": a control character in the value (expected: a header value)");
    }
    return new Op(name, template);
  }

  private static boolean safe(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if ((c < ' ' && c != '\t') || c == 0x7f) {
        return false;
      }
    }
    return true;
  }

  boolean isEmpty() {
    return add.isEmpty() && set.isEmpty() && remove.isEmpty();
  }

  /**
   * Applies the changes. A value made from variables that holds a control character (a decoded
   * {@code %0d%0a} in {@code $arg_x}) is left out: written, it would split the message.
   */
  void apply(HttpHeaders h, Variables vars) {
    for (var op : add) {
      var v = op.value.render(vars);
      if (safe(v)) {
        h.add(op.name, v);
      }
    }
    for (var op : set) {
      var v = op.value.render(vars);
      if (safe(v)) {
        h.set(op.name, v);
      } else {
        h.remove(op.name);
      }
    }
    for (var name : remove) {
      h.remove(name);
    }
  }
}
