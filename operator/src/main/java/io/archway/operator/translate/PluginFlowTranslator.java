package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.archway.PluginFlow;
import io.archway.model.Kind;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PluginFlow as {@code plugin_flows/pf_<namespace>_<name>}, in the Dashboard's DAG shape. Written
 * either as root, nodes and edges, or as the Dashboard's raw JSON in {@code dag}; either way every
 * plugin config is checked against its schema, and the graph must have one root, no cycle and no
 * edge to a missing node.
 */
public final class PluginFlowTranslator {

  private PluginFlowTranslator() {}

  public static String id(String ns, String name) {
    return Ids.of("pf", ns, name);
  }

  public static Translation translate(PluginFlow pf, Refs refs) {
    var t = new Translation();
    var ns = pf.getMetadata().getNamespace();
    var name = pf.getMetadata().getName();
    var spec = pf.getSpec();
    var flow = JsonNodeFactory.instance.objectNode();
    flow.put("id", id(ns, name));
    flow.put("name", ApisixRouteTranslator.truncate(ns + "/" + name, 100));
    boolean graph = spec != null && (spec.root != null || spec.nodes != null || spec.edges != null);
    boolean dag = spec != null && spec.dag != null && !spec.dag.isNull();
    if (graph == dag) {
      t.error(
          "spec",
          (graph ? "root/nodes/edges and dag both set" : "no flow")
              + " (expected: root, nodes and edges, or dag)");
      return t;
    }
    var fields = new HashMap<String, String>();
    if (dag) {
      if (!spec.dag.isObject()) {
        t.error("spec.dag", "not an object (expected: {rule, conf})");
        return t;
      }
      flow.setAll(((ObjectNode) spec.dag).deepCopy());
      flow.put("id", id(ns, name));
      flow.put("name", ApisixRouteTranslator.truncate(ns + "/" + name, 100));
      var conf = spec.dag.get("conf");
      if (conf != null && conf.isObject()) {
        for (var e : conf.properties()) {
          var at = "spec.dag.conf." + e.getKey();
          var plugin = e.getValue().path("name").asText(null);
          if (plugin == null) {
            continue; // the model's reader names it
          }
          var checked =
              PluginsBuilder.config(
                  plugin, e.getValue().get("conf"), "conf", null, at, ns, refs, t);
          if (checked != null) {
            ((ObjectNode) flow.get("conf").get(e.getKey())).set("conf", checked);
          }
        }
      }
      fields.put("rule", "spec.dag.rule");
      fields.put("conf", "spec.dag.conf");
    } else {
      graph(spec, ns, refs, flow, t);
      fields.put("rule", "spec.edges");
      fields.put("conf", "spec.nodes");
    }
    // The graph of a Dashboard DAG is checked even when a plugin's settings are wrong, so both
    // kinds of problem are reported at once; root/nodes/edges were checked above already.
    if (!t.ok() && !dag) {
      return t;
    }
    var obj = ModelObjects.read(Kind.PLUGIN_FLOWS, flow, fields, "spec", t);
    if (obj != null && t.ok()) {
      t.add(Kind.PLUGIN_FLOWS, obj);
    }
    return t;
  }

  private static void graph(
      io.archway.crds.archway.PluginFlowSpec spec,
      String ns,
      Refs refs,
      ObjectNode flow,
      Translation t) {
    if (spec.root == null || spec.root.isEmpty()) {
      t.error("spec.root", "missing (expected: the id of the node that runs first)");
    }
    if (spec.nodes == null || spec.nodes.isEmpty()) {
      t.error("spec.nodes", "missing (expected: at least one node)");
      return;
    }
    var conf = JsonNodeFactory.instance.objectNode();
    var index = new HashMap<String, Integer>();
    for (int i = 0; i < spec.nodes.size(); i++) {
      var n = spec.nodes.get(i);
      var at = "spec.nodes[" + i + "]";
      if (n.id == null || n.id.isEmpty()) {
        t.error(at + ".id", "missing (expected: the node's id)");
        continue;
      }
      var first = index.putIfAbsent(n.id, i);
      if (first != null) {
        t.error(
            at + ".id",
            "\"" + n.id + "\" is also the id of spec.nodes[" + first + "] (expected: unique ids)");
        continue;
      }
      if (n.plugin == null || n.plugin.isEmpty()) {
        t.error(at + ".plugin", "missing (expected: a plugin name)");
        continue;
      }
      var checked = PluginsBuilder.config(n.plugin, n.config, n.secretRef, at, ns, refs, t);
      if (checked != null) {
        conf.putObject(n.id).put("name", n.plugin).set("conf", checked);
      }
    }
    if (spec.root != null && !spec.root.isEmpty() && !index.containsKey(spec.root)) {
      t.error("spec.root", "\"" + spec.root + "\" is not a node (expected: an id from spec.nodes)");
    }
    Map<String, List<String[]>> out = new LinkedHashMap<>();
    var edges =
        spec.edges == null ? List.<io.archway.crds.archway.PluginFlowSpec.Edge>of() : spec.edges;
    for (int i = 0; i < edges.size(); i++) {
      var e = edges.get(i);
      var at = "spec.edges[" + i + "]";
      if (e.from == null || !index.containsKey(e.from)) {
        t.error(
            at + ".from", Exprs.show(e.from) + " is not a node (expected: an id from spec.nodes)");
        continue;
      }
      if (e.to == null || !index.containsKey(e.to)) {
        t.error(at + ".to", Exprs.show(e.to) + " is not a node (expected: an id from spec.nodes)");
        continue;
      }
      out.computeIfAbsent(e.from, k -> new java.util.ArrayList<>())
          .add(new String[] {e.condition == null ? "" : e.condition, e.to});
    }
    // A node nobody points at, other than the root, would be a second start.
    var targets = new java.util.HashSet<String>();
    out.values().forEach(l -> l.forEach(pair -> targets.add(pair[1])));
    for (int i = 0; i < spec.nodes.size(); i++) {
      var id = spec.nodes.get(i).id;
      if (id != null && !id.equals(spec.root) && !targets.contains(id) && index.get(id) == i) {
        t.error(
            "spec.nodes[" + i + "]",
            "\"" + id + "\" has no edge into it and is not the root (expected: one root)");
      }
    }
    var rule = flow.putObject("rule");
    rule.put("root", spec.root);
    out.forEach(
        (from, list) -> {
          var arr = rule.putArray(from);
          list.forEach(pair -> arr.addArray().add(pair[0]).add(pair[1]));
        });
    flow.set("conf", conf);
  }
}
