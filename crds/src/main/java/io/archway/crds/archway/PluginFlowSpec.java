package io.archway.crds.archway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The DAG of a {@link PluginFlow}: nodes, edges and a root, or the Dashboard's JSON. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PluginFlowSpec {

  @JsonPropertyDescription("The node that runs first (with nodes and edges).")
  public String root;

  @JsonPropertyDescription("The plugins of the flow (with root and edges).")
  public List<Node> nodes;

  @JsonPropertyDescription("Which node runs after which, and when.")
  public List<Edge> edges;

  @JsonPropertyDescription(
      "The APISIX Dashboard's DAG JSON instead of root, nodes and edges: {\"rule\": {\"root\":"
          + " ID, ID: [[condition, nextID], ...]}, \"conf\": {ID: {\"name\": plugin, \"conf\":"
          + " {...}}}}.")
  @PreserveUnknownFields
  public JsonNode dag;

  /** A node: one plugin with its configuration. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Node {
    @JsonPropertyDescription("The node's id, unique in the flow.")
    @Required
    @Pattern("^[a-zA-Z0-9-_.]{1,64}$")
    public String id;

    @JsonPropertyDescription("The plugin the node runs.")
    @Required
    public String plugin;

    @JsonPropertyDescription("The plugin's configuration.")
    @PreserveUnknownFields
    public JsonNode config;

    @JsonPropertyDescription("A Secret in the same namespace whose keys are merged into config.")
    public String secretRef;
  }

  /** An edge. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Edge {
    @JsonPropertyDescription("The node the edge leaves.")
    @Required
    public String from;

    @JsonPropertyDescription("The node that runs next.")
    @Required
    public String to;

    @JsonPropertyDescription(
        "When the edge is taken, e.g. code == 403 or an APISIX expression on request variables;"
            + " empty: the default branch, taken when no other edge's condition holds.")
    public String condition;
  }
}
