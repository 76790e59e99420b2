package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The Studio's PluginFlow export of a flow whose values YAML 1.1 would read as booleans when
 * unquoted, its secret in a Secret of its own referenced by {@code secretRef}: read as kubectl
 * would apply it and translated, every value stays the string the Studio had. The file is the
 * Studio model's output (model's {@code fixtures/studio/}, kept up to date by the Studio's {@code
 * test/exports.test.js}).
 */
class StudioPluginFlowExportTest {

  private static final Path FILE =
      Path.of("..", "model", "src", "test", "resources", "fixtures", "studio")
          .resolve("tricky-pluginflow.yaml");

  @Test
  void theResourceExportTranslatesWithItsStringsAndItsSecret() throws Exception {
    var manifests = new Manifests("default").read(FILE);
    assertThat(manifests.unreadable()).isEmpty();
    var pf = manifests.pluginFlow("shop", "tricky").orElseThrow();
    var t = PluginFlowTranslator.translate(pf, manifests);
    assertThat(t.errors()).isEmpty();
    var flow = t.items().get(0).object();
    assertThat(t.items().get(0).key()).endsWith(PluginFlowTranslator.id("shop", "tricky"));
    var json = io.archway.model.ModelJson.mapper().valueToTree(flow);
    var set = json.at("/conf/on/conf/headers/set");
    assertThat(set.get("X-H0").asText()).isEqualTo("on");
    assertThat(set.get("X-H4").asText()).isEqualTo("y");
    set.properties().forEach(e -> assertThat(e.getValue().isTextual()).as(e.getKey()).isTrue());
    assertThat(json.at("/conf/no/conf/body").asText()).isEqualTo("yes");
    assertThat(json.at("/conf/limit/conf/redis_password").asText()).isEqualTo("on");
    assertThat(json.at("/rule/limit/0/0").asText()).isEqualTo("arg_mode == 'on'");
  }
}
