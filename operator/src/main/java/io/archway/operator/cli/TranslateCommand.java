package io.archway.operator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code archway-operator translate}: resource files to a standalone apisix.yaml. */
@Command(
    name = "translate",
    header = "render resource files as a standalone apisix.yaml (GitOps previews, local runs)",
    customSynopsis = "archway-operator translate -f FILE|DIR [-f ...] [options]",
    description = {
      "",
      "Prints the standalone apisix.yaml the resources translate to (the dataplane runs it with"
          + " --standalone FILE). Resources that are not valid are left out and reported on"
          + " stderr.",
      ""
    },
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    sortOptions = false)
final class TranslateCommand implements Callable<Integer> {

  @ParentCommand OperatorCommand parent;

  @Mixin ResourceFiles files;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "write there instead of stdout")
  String output;

  @Option(
      names = "--control-plane-discovery",
      paramLabel = "off|marked|all",
      description = "nodes from the EndpointSlices in the files (as run does)")
  String controlPlaneDiscovery = "off";

  @Override
  public Integer call() throws UsageException {
    var err = parent.err;
    var m = files.read(controlPlaneDiscovery);
    m.unreadable().forEach(u -> err.println(u.source() + ": " + u.message()));
    var sections = new TreeMap<Kind, List<ObjectNode>>();
    int bad = m.unreadable().size();
    for (var e : ResourceFiles.translateAll(m).entrySet()) {
      var d = e.getKey();
      var t = e.getValue();
      t.warnings().forEach(w -> err.println(d.source() + ": " + d.describe() + ": warning: " + w));
      if (!t.ok()) {
        bad++;
        t.errors()
            .forEach(
                fe -> err.println(d.source() + ": " + d.describe() + ": " + fe + " (left out)"));
        continue;
      }
      for (var item : t.items()) {
        sections
            .computeIfAbsent(item.kind(), k -> new ArrayList<>())
            .add((ObjectNode) ModelJson.toTree(item.object()));
      }
    }
    var doc = ModelJson.mapper().createObjectNode();
    sections.forEach((kind, items) -> doc.putArray(kind.dir()).addAll(items));
    String yaml;
    try {
      var mapper =
          new ObjectMapper(
              YAMLFactory.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).build());
      yaml = (doc.isEmpty() ? "{}\n" : mapper.writeValueAsString(doc)) + "#END\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ResourceFiles.write(output, yaml, parent.out);
    return bad == 0 ? 0 : 1;
  }
}
