package io.archway.model;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * An upstream's {@code nodes}, in either of APISIX's two forms: a map {@code {"host:port": weight}}
 * or a list of {@link UpstreamNode}. The form is kept so the object serialises back as it was
 * written.
 */
public record UpstreamNodes(List<UpstreamNode> nodes, boolean mapForm) {

  public UpstreamNodes {
    nodes = List.copyOf(nodes);
  }

  public static UpstreamNodes list(List<UpstreamNode> nodes) {
    return new UpstreamNodes(nodes, false);
  }

  @JsonValue
  JsonNode toJson() {
    var f = JsonNodeFactory.instance;
    if (mapForm) {
      var map = f.objectNode();
      nodes.forEach(n -> map.put(n.address(), n.weight()));
      return map;
    }
    return ModelJson.mapper().valueToTree(nodes);
  }

  static UpstreamNodes read(Fields f, String name) {
    var v = f.raw(name);
    if (v == null) {
      return null;
    }
    var path = f.pathOf(name);
    var problems = new ArrayList<Problem>();
    var out = new ArrayList<UpstreamNode>();
    if (v.isObject()) {
      for (var e : v.properties()) {
        var at = path + "." + e.getKey();
        var w = e.getValue();
        if (!w.isIntegralNumber() || w.longValue() < 0 || w.longValue() > 65535) {
          problems.add(new Problem(at, Fields.show(w) + " (expected: weight 0..65535)"));
          continue;
        }
        var node = UpstreamNode.fromMapKey(e.getKey(), w.intValue());
        if (node == null
            || node.host().isEmpty()
            || !Addresses.HOST.matcher(node.host()).matches()) {
          problems.add(
              new Problem(at, "bad node address (expected: host, host:port or [ipv6]:port)"));
          continue;
        }
        out.add(node);
      }
      f.problems(problems);
      return problems.isEmpty() ? new UpstreamNodes(out, true) : null;
    }
    if (v.isArray()) {
      for (int i = 0; i < v.size(); i++) {
        var nested = Fields.of(v.get(i), path + "[" + i + "]", problems);
        var node = UpstreamNode.read(nested, nested.path());
        nested.finish();
        if (node != null) {
          out.add(node);
        }
      }
      f.problems(problems);
      return problems.isEmpty() ? new UpstreamNodes(out, false) : null;
    }
    f.problem(
        name, Fields.show(v) + " (expected: object of \"host:port\" to weight, or array of nodes)");
    return null;
  }
}
