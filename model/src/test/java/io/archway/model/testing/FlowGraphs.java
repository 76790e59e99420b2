package io.archway.model.testing;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random PluginFlow JSON for the fuzz tests: graphs that are sometimes DAGs and sometimes not. */
public final class FlowGraphs {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final List<String> CONDITIONS =
      List.of(
          "",
          "",
          "code == 200",
          "code == 401",
          "arg_a",
          "not consumer",
          "code >= 1e3 or (arg_b ~= nil and http_x ~~ '(a|b)*c')",
          "code ==",
          "(((",
          " ");
  private static final List<String> PLUGINS =
      List.of("echo", "request-id", "key-auth", "cors", "no-such-plugin", "");

  private FlowGraphs() {}

  /** A graph over a few nodes: random edges (loops possible), some nodes missing from conf. */
  public static ObjectNode graph(Random r) {
    int n = r.nextInt(1, 6);
    var ids = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      ids.add("n" + i);
    }
    var json = F.objectNode();
    if (r.nextInt(5) > 0) {
      json.put("id", "f");
    }
    var rule = json.putObject("rule");
    rule.put("root", r.nextInt(8) == 0 ? "nowhere" : ids.get(r.nextInt(r.nextInt(4) == 0 ? n : 1)));
    for (var from : ids) {
      if (r.nextInt(3) == 0) {
        continue;
      }
      var edges = rule.putArray(from);
      for (int k = r.nextInt(0, 3); k > 0; k--) {
        // Mostly forward edges (a DAG); sometimes back, to itself, or to a node not configured.
        int at = ids.indexOf(from);
        String to =
            switch (r.nextInt(6)) {
              case 0 -> ids.get(r.nextInt(n));
              case 1 -> "ghost";
              default -> at + 1 < n ? ids.get(r.nextInt(at + 1, n)) : ids.get(r.nextInt(n));
            };
        edges.addArray().add(CONDITIONS.get(r.nextInt(CONDITIONS.size()))).add(to);
      }
    }
    var conf = json.putObject("conf");
    for (var id : ids) {
      if (r.nextInt(10) == 0) {
        continue;
      }
      var node = conf.putObject(id);
      node.put("name", PLUGINS.get(r.nextInt(PLUGINS.size())));
      if (r.nextInt(8) > 0) {
        node.putObject("conf");
      }
    }
    return json;
  }
}
