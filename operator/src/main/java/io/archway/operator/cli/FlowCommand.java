package io.archway.operator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code archway-operator flow}: the PluginFlows in resource files as Graphviz DOT or Mermaid. */
@Command(
    name = "flow",
    header = "draw the PluginFlows in resource files as Graphviz DOT or Mermaid",
    customSynopsis = "archway-operator flow -f FILE|DIR [-f ...] [options]",
    description = {
      "",
      "Draws each PluginFlow in the files (checked as the operator would) as a graph: its nodes"
          + " with their plugins, its edges with their conditions, the default edges dashed.",
      "Render DOT with Graphviz (dot -Tsvg); Mermaid renders in GitHub and most wikis.",
      ""
    },
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    sortOptions = false)
final class FlowCommand implements Callable<Integer> {

  @ParentCommand OperatorCommand parent;

  @Mixin ResourceFiles files;

  @Option(
      names = "--format",
      paramLabel = "dot|mermaid",
      description = "the drawing's language (default: dot)")
  String format = "dot";

  @Option(names = "--name", paramLabel = "NAME", description = "only the PluginFlow of this name")
  String name;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "write there instead of stdout")
  String output;

  @Override
  public Integer call() throws UsageException {
    if (!format.equals("dot") && !format.equals("mermaid")) {
      throw new UsageException("--format: \"" + format + "\" (expected: dot or mermaid)");
    }
    var err = parent.err;
    var m = files.read("off");
    m.unreadable().forEach(u -> err.println(u.source() + ": " + u.message()));
    var text = new StringBuilder();
    int drawn = 0;
    int bad = 0;
    for (var e : ResourceFiles.translateAll(m).entrySet()) {
      var d = e.getKey();
      if (!(d.resource() instanceof io.archway.crds.archway.PluginFlow pf)
          || (name != null && !name.equals(pf.getMetadata().getName()))) {
        continue;
      }
      var t = e.getValue();
      if (!t.ok()) {
        bad++;
        t.errors().forEach(fe -> err.println(d.source() + ": " + d.describe() + ": " + fe));
        continue;
      }
      for (var item : t.items()) {
        if (item.object() instanceof io.archway.model.PluginFlow flow) {
          var id = pf.getMetadata().getNamespace() + "/" + pf.getMetadata().getName();
          if (format.equals("dot")) {
            text.append(FlowDiagrams.dot(id, flow));
          } else {
            text.append("%% PluginFlow ").append(id).append('\n');
            text.append(FlowDiagrams.mermaid(flow));
          }
          drawn++;
        }
      }
    }
    if (drawn == 0 && bad == 0) {
      throw new UsageException(
          "no PluginFlow" + (name == null ? "" : " named " + name) + " in the files");
    }
    ResourceFiles.write(output, text, parent.out);
    return bad == 0 ? 0 : 1;
  }
}
