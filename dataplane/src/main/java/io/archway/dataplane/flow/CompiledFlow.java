package io.archway.dataplane.flow;

import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.Variables;
import io.archway.model.FlowCondition;
import io.archway.model.PluginFlow;
import io.archway.model.Problem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Predicate;

/**
 * A PluginFlow compiled for requests: nodes in an array, each with its compiled plugin and its
 * edges, conditions compiled to predicates. The graph was checked when the flow was read (one root,
 * no loop, every node reachable, conditions parse); here each node's plugin is compiled, and every
 * problem is named by node id. See {@code DESIGN.md} beside this class for how a flow runs.
 */
public final class CompiledFlow {

  /** A node: its plugin, where to go next, and its live counts. */
  public record Node(
      String id, PluginChain.Entry plugin, Edge[] edges, FlowStats.NodeCounters stats) {

    /**
     * The edge to follow once the node finished, as {@code result} shows it: the first whose
     * condition holds, else the default one; {@code null} when none is left (the flow ends).
     */
    public Edge follow(Variables result) {
      for (var e : edges) {
        if (e.when() == null || e.when().test(result)) {
          return e;
        }
      }
      return null;
    }
  }

  /**
   * An edge: taken when {@code when} holds; {@code when == null} is the default edge, taken when no
   * other edge's condition does.
   */
  public record Edge(
      String condition, Predicate<Variables> when, int next, FlowStats.EdgeCounter stats) {}

  private final String id;
  private final Node[] nodes;
  private final int root;

  private CompiledFlow(String id, Node[] nodes, int root) {
    this.id = id;
    this.nodes = nodes;
    this.root = root;
  }

  String id() {
    return id;
  }

  public Node root() {
    return nodes[root];
  }

  public Node node(int i) {
    return nodes[i];
  }

  int size() {
    return nodes.length;
  }

  /**
   * Compiles {@code flow}; its plugins' problems go to {@code problems} (paths {@code
   * conf.<node>.conf...}) and the result is then {@code null}.
   */
  public static CompiledFlow compile(
      PluginFlow flow,
      String owner,
      PluginRegistry registry,
      PluginServices services,
      List<Problem> problems) {
    return compile(flow, owner, registry, services, problems, false);
  }

  /**
   * Compiles {@code flow}, for requests or ({@code dryRun}) for one dry-run: its plugins in a
   * dry-run scope ({@link PluginScope#dryRun()}) and its counters not registered in {@link
   * FlowStats}.
   */
  public static CompiledFlow compile(
      PluginFlow flow,
      String owner,
      PluginRegistry registry,
      PluginServices services,
      List<Problem> problems,
      boolean dryRun) {
    var index = new HashMap<String, Integer>();
    var ids = new ArrayList<>(flow.conf().keySet());
    for (int i = 0; i < ids.size(); i++) {
      index.put(ids.get(i), i);
    }
    int before = problems.size();
    var entries = new PluginChain.Entry[ids.size()];
    for (int i = 0; i < ids.size(); i++) {
      var nodeId = ids.get(i);
      var n = flow.conf().get(nodeId);
      entries[i] =
          registry.compileOne(
              n.name(),
              n.conf(),
              new PluginScope(owner + "#" + nodeId, services, dryRun),
              "conf." + nodeId + ".conf",
              problems);
      if (entries[i] == null && problems.size() == before) {
        problems.add(
            new Problem(
                "conf." + nodeId, "plugin is disabled (expected: every node's plugin to run)"));
      }
    }
    if (problems.size() > before) {
      return null;
    }
    var plugins = new LinkedHashMap<String, String>();
    var links = new ArrayList<String[]>();
    for (var nodeId : ids) {
      plugins.put(nodeId, flow.conf().get(nodeId).name());
      for (var e : flow.rule().edgesOf(nodeId)) {
        links.add(new String[] {nodeId, e.next(), e.condition()});
      }
    }
    var stats = dryRun ? null : FlowStats.of(services).register(owner, plugins, links);
    var nodes = new Node[ids.size()];
    int link = 0;
    for (int i = 0; i < ids.size(); i++) {
      var nodeId = ids.get(i);
      var edges = new ArrayList<Edge>();
      Edge fallback = null;
      for (var e : flow.rule().edgesOf(nodeId)) {
        var counter =
            stats != null
                ? stats.edges().get(link)
                : FlowStats.detachedEdge(nodeId, e.next(), e.condition());
        link++;
        if (e.condition().isEmpty()) {
          fallback = new Edge("", null, index.get(e.next()), counter);
        } else {
          edges.add(
              new Edge(
                  e.condition(),
                  Conditions.compile(FlowCondition.parse(e.condition())),
                  index.get(e.next()),
                  counter));
        }
      }
      if (fallback != null) {
        edges.add(fallback); // the default edge is tried last, wherever it was written
      }
      nodes[i] =
          new Node(
              nodeId,
              entries[i],
              edges.toArray(Edge[]::new),
              stats != null
                  ? stats.nodes().get(nodeId)
                  : FlowStats.detachedNode(plugins.get(nodeId)));
    }
    return new CompiledFlow(flow.id(), nodes, index.get(flow.rule().root()));
  }
}
