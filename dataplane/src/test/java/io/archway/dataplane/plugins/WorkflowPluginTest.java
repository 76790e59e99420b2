package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.ModelJson;
import io.archway.model.Problem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** workflow's schema and its actions' checks, made when it is compiled. */
class WorkflowPluginTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private final PluginServices services = new PluginServices();

  @AfterEach
  void close() {
    services.close();
  }

  private List<String> compile(String conf) throws Exception {
    var problems = new ArrayList<Problem>();
    var entry =
        REGISTRY.compileOne(
            "workflow",
            (ObjectNode) ModelJson.mapper().readTree(conf.replace('\'', '"')),
            new PluginScope("routes/r", services),
            "plugins.workflow",
            problems);
    assertThat(entry == null).isEqualTo(!problems.isEmpty());
    return problems.stream().map(Problem::toString).toList();
  }

  @Test
  void apisixsExamplesCompile() throws Exception {
    assertThat(
            compile(
                """
                {'rules': [
                  {'case': [['uri', '==', '/hello/rejected']], 'actions': [['return', {'code': 403}]]},
                  {'case': ['OR', ['uri', '==', '/hello/v2/appid'], ['arg_x', '~~', '^a']],
                   'actions': [['limit-count', {'count': 2, 'time_window': 60,
                                                'rejected_code': 429}]]},
                  {'case': [['http_x', 'has', 'y']],
                   'actions': [['limit-conn', {'conn': 1, 'burst': 0, 'default_conn_delay': 0.1,
                                               'key': 'remote_addr'}]]},
                  {'actions': [['return', {'code': 200}]]}
                ]}
                """))
        .isEmpty();
    assertThat(REGISTRY.get("workflow").priority()).isEqualTo(1006);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{}                                                     | plugins.workflow.rules: missing",
        "{'rules': [{'case': [['uri', '==', '/a']]}]}            | plugins.workflow.rules[0].actions: missing",
        "{'rules': [{'case': [], 'actions': []}]}                | plugins.workflow.rules[0].case: []",
        "{'rules': [{'case': [['uri', 'like', '/a']], 'actions': []}]} | plugins.workflow.rules[0].case[0][1]: \"like\"",
        "{'rules': [{'actions': [[]]}]}                          | plugins.workflow.rules[0].actions[0]: []",
        "{'rules': [{'actions': [['fail', {}]]}]}                | plugins.workflow: rules[0].actions[0][0]: \"fail\" (unsupported action; expected: one of return, limit-count, limit-conn)",
        "{'rules': [{'actions': [['return']]}]}                  | plugins.workflow: rules[0].actions[0][1]: missing (expected: the 'return' action's configuration, an object)",
        "{'rules': [{'actions': [['return', {}]]}]}              | plugins.workflow: rules[0].actions[0][1].code: missing (failed to validate the 'return' action",
        "{'rules': [{'actions': [['return', {'code': 99}]]}]}    | plugins.workflow: rules[0].actions[0][1].code: 99",
        "{'rules': [{'actions': [['return', {'code': 403, 'x': 1}]]}]} | plugins.workflow: rules[0].actions[0][1]: unknown field(s) [x]",
        "{'rules': [{'actions': [['limit-count', {'count': 2}]]}]} | plugins.workflow: rules[0].actions[0][1].time_window: failed to validate the 'limit-count' action: missing",
        "{'rules': [{'actions': [['return', {'code': 403}]]}, {'actions': [['limit-count', {'count': -1, 'time_window': 1}]]}]} | plugins.workflow: rules[1].actions[0][1].count: failed to validate the 'limit-count' action: -1",
        "{'rules': [{'actions': [['limit-conn', {'conn': 1}]]}]} | plugins.workflow: rules[0].actions[0][1]",
        "{'rules': [], 'extra': 1}                               | plugins.workflow.extra"
      })
  void badConfigurationsNameThePath(String conf, String start) throws Exception {
    var problems = compile(conf);
    assertThat(problems).isNotEmpty();
    assertThat(problems.get(0)).startsWith(start);
  }

  @Test
  void anActionsProblemSaysWhichAction() throws Exception {
    assertThat(compile("{'rules': [{'actions': [['limit-count', {'count': 2}]]}]}").get(0))
        .contains("failed to validate the 'limit-count' action");
  }
}
