package io.archway.model;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plugins composed as a DAG, in the APISIX Dashboard's shape: {@code rule} has a {@code root} and,
 * per node, its outgoing edges {@code [condition, next]} ({@code ""} is the default branch); {@code
 * conf} gives each node's plugin and its configuration. Stored under {@code
 * <prefix>/plugin_flows/<id>} (Archway's own directory) and run by routes through {@code
 * plugin_flow_id}. {@code chart} is the Dashboard's drawing, kept untouched.
 *
 * <p>Validation follows the seed document: one start, every node configured and reachable, no
 * loops, no edge to a node that does not exist.
 */
public record PluginFlow(
    String id,
    String name,
    String desc,
    Rule rule,
    Map<String, Node> conf,
    ObjectNode chart,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  /** The graph: the root node and each node's edges, in the order written. */
  public record Rule(String root, Map<String, List<Edge>> edges) {

    public Rule {
      edges = Collections.unmodifiableMap(new LinkedHashMap<>(edges));
    }

    public List<Edge> edgesOf(String node) {
      return edges.getOrDefault(node, List.of());
    }

    @JsonValue
    JsonNode toJson() {
      var f = JsonNodeFactory.instance;
      var out = f.objectNode();
      out.put("root", root);
      edges.forEach(
          (from, list) -> {
            var arr = out.putArray(from);
            list.forEach(e -> arr.addArray().add(e.condition()).add(e.next()));
          });
      return out;
    }
  }

  /** An edge taken when {@code condition} holds ({@code ""}: when no other edge's does). */
  public record Edge(String condition, String next) {}

  /** A node: the plugin's name and its configuration. */
  public record Node(String name, ObjectNode conf) {

    static Node read(Fields f, String path) {
      var node = new Node(f.requiredString("name", Fields.Check.length(1, 64)), f.object("conf"));
      f.required("conf", "object, the plugin's configuration");
      return node;
    }
  }

  static PluginFlow read(Fields f, String path) {
    var rule = readRule(f);
    var conf = readConf(f);
    var flow =
        new PluginFlow(
            f.id("id"),
            f.string("name", Fields.Check.length(1, 100)),
            f.string("desc", Fields.Check.length(0, 256)),
            rule,
            conf,
            f.object("chart"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    if (rule != null && conf != null) {
      checkGraph(f, rule, conf);
    }
    return flow;
  }

  private static Rule readRule(Fields f) {
    var v = f.raw("rule");
    if (v == null) {
      f.problem("rule", "missing (expected: object with root and edges)");
      return null;
    }
    if (!v.isObject()) {
      f.problem("rule", Fields.show(v) + " (expected: object with root and edges)");
      return null;
    }
    var root = v.get("root");
    if (root == null || !root.isTextual() || root.textValue().isEmpty()) {
      f.problem("rule.root", Fields.show(root) + " (expected: the id of the first node)");
      return null;
    }
    var edges = new LinkedHashMap<String, List<Edge>>();
    boolean ok = true;
    for (var e : v.properties()) {
      if (e.getKey().equals("root")) {
        continue;
      }
      var at = "rule." + e.getKey();
      var list = e.getValue();
      if (!list.isArray()) {
        f.problem(at, Fields.show(list) + " (expected: array of [condition, next])");
        ok = false;
        continue;
      }
      var out = new ArrayList<Edge>();
      var conditions = new HashSet<String>();
      for (int i = 0; i < list.size(); i++) {
        var pair = list.get(i);
        if (!pair.isArray()
            || pair.size() != 2
            || !pair.get(0).isTextual()
            || !pair.get(1).isTextual()) {
          f.problem(at + "[" + i + "]", Fields.show(pair) + " (expected: [condition, next])");
          ok = false;
          continue;
        }
        var condition = pair.get(0).textValue().strip();
        if (!conditions.add(condition)) {
          f.problem(
              at + "[" + i + "]",
              Fields.show(pair)
                  + (condition.isEmpty()
                      ? " is a second default edge (expected: at most one \"\" edge per node)"
                      : " (expected: each condition once per node)"));
          ok = false;
          continue;
        }
        if (!condition.isEmpty()) {
          try {
            FlowCondition.parse(condition);
          } catch (IllegalArgumentException ex) {
            f.problem(at + "[" + i + "][0]", "condition \"" + condition + "\" " + ex.getMessage());
            ok = false;
            continue;
          }
        }
        out.add(new Edge(condition, pair.get(1).textValue()));
      }
      edges.put(e.getKey(), List.copyOf(out));
    }
    return ok ? new Rule(root.textValue(), edges) : null;
  }

  private static Map<String, Node> readConf(Fields f) {
    var v = f.raw("conf");
    if (v == null) {
      f.problem("conf", "missing (expected: object of node id to {name, conf})");
      return null;
    }
    if (!v.isObject()) {
      f.problem("conf", Fields.show(v) + " (expected: object of node id to {name, conf})");
      return null;
    }
    var problems = new ArrayList<Problem>();
    var out = new LinkedHashMap<String, Node>();
    for (var e : v.properties()) {
      var nested = Fields.of(e.getValue(), f.pathOf("conf") + "." + e.getKey(), problems);
      var node = Node.read(nested, nested.path());
      nested.finish();
      if (node != null) {
        out.put(e.getKey(), node);
      }
    }
    f.problems(problems);
    return problems.isEmpty() ? Collections.unmodifiableMap(out) : null;
  }

  /** One start, every node configured and reachable from it, and no loops. */
  private static void checkGraph(Fields f, Rule rule, Map<String, Node> conf) {
    if (!conf.containsKey(rule.root())) {
      f.problem("rule.root", "\"" + rule.root() + "\" (expected: a node defined in conf)");
      return;
    }
    rule.edges()
        .forEach(
            (from, list) -> {
              if (!conf.containsKey(from)) {
                f.problem("rule." + from, "node not defined in conf (expected: an id in conf)");
              }
              for (int i = 0; i < list.size(); i++) {
                var next = list.get(i).next();
                if (!conf.containsKey(next)) {
                  f.problem(
                      "rule." + from + "[" + i + "]",
                      "next \"" + next + "\" not defined in conf (expected: an id in conf)");
                }
              }
            });
    // Reachability from the root; nodes nobody reaches would be a second start.
    var reached = new HashSet<String>();
    var todo = new ArrayDeque<String>(List.of(rule.root()));
    while (!todo.isEmpty()) {
      var n = todo.pop();
      if (reached.add(n)) {
        rule.edgesOf(n).forEach(e -> todo.push(e.next()));
      }
    }
    var targets = new HashSet<String>();
    rule.edges().values().forEach(list -> list.forEach(e -> targets.add(e.next())));
    for (var id : conf.keySet()) {
      if (reached.contains(id)) {
        continue;
      }
      if (!targets.contains(id)) {
        f.problem(
            "conf." + id,
            "a second start: no edge leads to it and it is not the root \""
                + rule.root()
                + "\" (expected: one root)");
      } else {
        f.problem(
            "conf." + id,
            "not reachable from root \"" + rule.root() + "\" (expected: every node reachable)");
      }
    }
    var cycle = findCycle(rule);
    if (cycle != null) {
      f.problem("rule", "loop " + String.join(" -> ", cycle) + " (expected: no loops)");
    }
  }

  /** A cycle as the list of its nodes (first repeated at the end), or {@code null}. */
  private static List<String> findCycle(Rule rule) {
    var state = new HashMap<String, Integer>(); // 1 = on the stack, 2 = done
    var stack = new ArrayList<String>();
    for (var start : rule.edges().keySet()) {
      var found = visit(rule, start, state, stack);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static List<String> visit(
      Rule rule, String node, Map<String, Integer> state, List<String> stack) {
    var s = state.get(node);
    if (s != null && s == 2) {
      return null;
    }
    if (s != null && s == 1) {
      var cycle = new ArrayList<>(stack.subList(stack.indexOf(node), stack.size()));
      cycle.add(node);
      return cycle;
    }
    state.put(node, 1);
    stack.add(node);
    for (var e : rule.edgesOf(node)) {
      var found = visit(rule, e.next(), state, stack);
      if (found != null) {
        return found;
      }
    }
    stack.remove(stack.size() - 1);
    state.put(node, 2);
    return null;
  }
}
