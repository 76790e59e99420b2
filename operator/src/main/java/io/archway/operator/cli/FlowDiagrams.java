package io.archway.operator.cli;

import io.archway.model.PluginFlow;

/**
 * A plugin flow drawn as text a user can render: Graphviz DOT ({@code dot -Tsvg}) or Mermaid
 * (GitHub and most wikis render it inline). Nodes show their id and plugin, edges their condition;
 * the default edge is dashed and labelled {@code default}; the root is marked.
 */
final class FlowDiagrams {

  private FlowDiagrams() {}

  static String dot(String name, PluginFlow flow) {
    var out = new StringBuilder();
    out.append("digraph \"").append(dotEscape(name)).append("\" {\n");
    out.append("  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    out.append("  start [shape=circle, label=\"\", width=0.2, style=filled];\n");
    out.append("  start -> \"").append(dotEscape(flow.rule().root())).append("\";\n");
    flow.conf()
        .forEach(
            (id, node) ->
                out.append("  \"")
                    .append(dotEscape(id))
                    .append("\" [label=\"")
                    .append(dotEscape(id))
                    .append("\\n")
                    .append(dotEscape(node.name()))
                    .append("\"];\n"));
    flow.rule()
        .edges()
        .forEach(
            (from, edges) ->
                edges.forEach(
                    e -> {
                      out.append("  \"")
                          .append(dotEscape(from))
                          .append("\" -> \"")
                          .append(dotEscape(e.next()))
                          .append("\"");
                      if (e.condition().isEmpty()) {
                        out.append(" [label=\"default\", style=dashed]");
                      } else {
                        out.append(" [label=\"").append(dotEscape(e.condition())).append("\"]");
                      }
                      out.append(";\n");
                    }));
    return out.append("}\n").toString();
  }

  static String mermaid(PluginFlow flow) {
    var out = new StringBuilder("flowchart LR\n");
    var ids = new java.util.HashMap<String, String>();
    int n = 0;
    for (var id : flow.conf().keySet()) {
      ids.put(id, "n" + n++);
    }
    out.append("  start((start)) --> ").append(ids.get(flow.rule().root())).append('\n');
    flow.conf()
        .forEach(
            (id, node) ->
                out.append("  ")
                    .append(ids.get(id))
                    .append("[\"")
                    .append(mermaidEscape(id))
                    .append("<br/>")
                    .append(mermaidEscape(node.name()))
                    .append("\"]\n"));
    flow.rule()
        .edges()
        .forEach(
            (from, edges) ->
                edges.forEach(
                    e -> {
                      out.append("  ").append(ids.get(from));
                      if (e.condition().isEmpty()) {
                        out.append(" -. default .-> ");
                      } else {
                        out.append(" -- \"").append(mermaidEscape(e.condition())).append("\" --> ");
                      }
                      out.append(ids.get(e.next())).append('\n');
                    }));
    return out.toString();
  }

  private static String dotEscape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** Mermaid labels in quotes: quotes and angle brackets as entities. */
  private static String mermaidEscape(String s) {
    return s.replace("&", "#amp;")
        .replace("\"", "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;");
  }
}
