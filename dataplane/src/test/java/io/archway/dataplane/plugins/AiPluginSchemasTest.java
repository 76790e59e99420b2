package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The schemas of the AI plugins (ai-proxy, ai-proxy-multi, ai-prompt-decorator, ai-prompt-template,
 * ai-prompt-guard, ai-rate-limiting): APISIX's defaults, bad configurations refused naming the
 * field, and what only compiling can tell.
 */
class AiPluginSchemasTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  static String bind(String name, String conf) throws Exception {
    return PluginRegistry.bind(
            REGISTRY.get(name), ModelJson.mapper().readTree(conf.replace('\'', '"')))
        .toString();
  }

  static List<String> check(String name, String conf) throws Exception {
    return PluginSchemas.check(
            name, ModelJson.mapper().readTree(conf.replace('\'', '"')), "plugins." + name)
        .stream()
        .map(Problem::toString)
        .toList();
  }

  @Test
  void defaultsAreApisixs() throws Exception {
    assertThat(bind("ai-proxy", "{'provider': 'openai', 'auth': {'header': {'k': 'v'}}}"))
        .contains(
            "provider=openai",
            "timeout=30000",
            "keepalive=true",
            "keepaliveTimeout=60000",
            "keepalivePool=30",
            "sslVerify=true");
    assertThat(
            bind(
                "ai-proxy-multi",
                "{'instances': [{'name': 'a', 'provider': 'deepseek', 'weight': 1, 'auth': {}}]}"))
        .contains("Balancer[algorithm=roundrobin, hashOn=vars, key=null]", "priority=0");
    assertThat(bind("ai-prompt-guard", "{}"))
        .isEqualTo(
            "Config[matchAllRoles=false, matchAllConversationHistory=false, allowPatterns=[],"
                + " denyPatterns=[]]");
    assertThat(bind("ai-prompt-template", "{'templates': [{'name': 't', 'template': {}}]}"))
        .contains("maxReqBodySize=67108864");
    assertThat(bind("ai-rate-limiting", "{'limit': 10, 'time_window': 60}"))
        .contains(
            "showLimitQuotaHeader=true",
            "limitStrategy=total_tokens",
            "rejectedCode=503",
            "policy=local");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          ai-proxy       | {'auth': {}}                                   | plugins.ai-proxy.provider: missing
          ai-proxy       | {'provider': 'openai'}                         | plugins.ai-proxy.auth: missing
          ai-proxy       | {'provider': 'bard', 'auth': {}}               | plugins.ai-proxy.provider: "bard" (expected: one of openai, deepseek
          ai-proxy       | {'provider': 'openai', 'auth': {'gcp': {}}}    | plugins.ai-proxy.auth.gcp: auth.gcp (Google service account tokens) is not supported by Archway
          ai-proxy       | {'provider': 'openai', 'auth': {'header': {'a b': 'x'}}} | plugins.ai-proxy.auth.header
          ai-proxy       | {'provider': 'openai', 'auth': {}, 'timeout': 0} | plugins.ai-proxy.timeout: 0 (expected: 1..600000)
          ai-proxy       | {'provider': 'openai', 'auth': {}, 'logging': {'summaries': 'yes'}} | plugins.ai-proxy.logging.summaries: "yes" (expected: boolean)
          ai-proxy       | {'provider': 'vertex-ai', 'auth': {}, 'provider_conf': {'region': 'r'}} | plugins.ai-proxy.provider_conf.project_id: missing
          ai-proxy-multi | {}                                             | plugins.ai-proxy-multi.instances: missing
          ai-proxy-multi | {'instances': []}                              | plugins.ai-proxy-multi.instances:
          ai-proxy-multi | {'instances': [{'name': 'a', 'provider': 'openai', 'auth': {}}]} | plugins.ai-proxy-multi.instances[0].weight: missing
          ai-proxy-multi | {'instances': [{'name': 'a', 'provider': 'openai', 'auth': {}, 'weight': -1}]} | plugins.ai-proxy-multi.instances[0].weight: -1 (expected: >= 0)
          ai-proxy-multi | {'fallback_strategy': 'sometimes', 'instances': [{'name': 'a', 'provider': 'openai', 'auth': {}, 'weight': 1}]} | plugins.ai-proxy-multi.fallback_strategy:
          ai-proxy-multi | {'balancer': {'algorithm': 'random'}, 'instances': [{'name': 'a', 'provider': 'openai', 'auth': {}, 'weight': 1}]} | plugins.ai-proxy-multi.balancer.algorithm: "random" (expected: one of chash, roundrobin)
          ai-prompt-decorator | {}                                        | plugins.ai-prompt-decorator: expected at least one of prepend, append
          ai-prompt-decorator | {'prepend': [{'role': 'tool', 'content': 'x'}]} | plugins.ai-prompt-decorator.prepend[0].role: "tool" (expected: one of system, user, assistant)
          ai-prompt-decorator | {'append': [{'role': 'user', 'content': ''}]} | plugins.ai-prompt-decorator.append[0].content:
          ai-prompt-template | {}                                         | plugins.ai-prompt-template.templates: missing
          ai-prompt-template | {'templates': [{'name': 't'}]}             | plugins.ai-prompt-template.templates[0].template: missing
          ai-prompt-guard | {'deny_patterns': 'x'}                        | plugins.ai-prompt-guard.deny_patterns: "x"
          ai-rate-limiting | {'limit': 0, 'time_window': 1}               | plugins.ai-rate-limiting.limit: 0 (expected: >= 1)
          ai-rate-limiting | {'limit': 1, 'time_window': 1, 'limit_strategy': 'expression'} | plugins.ai-rate-limiting.limit_strategy: "expression" (expected: one of total_tokens, prompt_tokens, completion_tokens)
          ai-rate-limiting | {'limit': 1, 'time_window': 1, 'policy': 'redis'} | plugins.ai-rate-limiting.policy: "redis" (expected: local (counters shared through Redis
          ai-rate-limiting | {'instances': [{'name': 'a', 'limit': 1}]}   | plugins.ai-rate-limiting.instances[0].time_window: missing
          ai-request-rewrite | {'provider': 'openai', 'auth': {}}          | plugins.ai-request-rewrite.prompt: missing
          ai-request-rewrite | {'prompt': 'p', 'provider': 'openai', 'auth': {}, 'timeout': 60001} | plugins.ai-request-rewrite.timeout: 60001 (expected: 1..60000)
          """)
  void badConfigurationsAreRefusedNamingTheField(String plugin, String conf, String start)
      throws Exception {
    assertThat(check(plugin, conf)).anySatisfy(p -> assertThat(p).startsWith(start.strip()));
  }

  @Test
  void goodConfigurationsPass() throws Exception {
    assertThat(
            check(
                "ai-proxy",
                "{'provider': 'azure-openai', 'auth': {'header': {'api-key': 'k'}, 'query':"
                    + " {'api-version': '2024'}}, 'options': {'model': 'gpt-4', 'temperature':"
                    + " 0.2, 'stream': true}, 'override': {'endpoint':"
                    + " 'https://x.openai.azure.com/openai/deployments/d/chat/completions'}}"))
        .isEmpty();
    assertThat(
            check(
                "ai-proxy-multi",
                "{'fallback_strategy': ['rate_limiting', 'http_429'], 'balancer': {'algorithm':"
                    + " 'chash', 'hash_on': 'header', 'key': 'x-user'}, 'instances': [{'name':"
                    + " 'a', 'provider': 'openai', 'weight': 1, 'auth': {}, 'checks': {'active':"
                    + " {'http_path': '/health'}}}]}"))
        .isEmpty();
  }

  static List<String> compileProblems(String name, String conf) throws Exception {
    var problems = new ArrayList<Problem>();
    var entry =
        REGISTRY.compileOne(
            name,
            (ObjectNode) ModelJson.mapper().readTree(conf.replace('\'', '"')),
            new PluginScope("routes/r", null),
            "plugins." + name,
            problems);
    assertThat(entry).isNull();
    return problems.stream().map(Problem::toString).toList();
  }

  @Test
  void whatTheSchemaCannotSayIsCheckedWhenCompiled() throws Exception {
    assertThat(compileProblems("ai-proxy", "{'provider': 'openai-compatible', 'auth': {}}"))
        .singleElement()
        .asString()
        .contains("override.endpoint: missing (expected: the endpoint URL; provider");
    assertThat(
            compileProblems(
                "ai-proxy",
                "{'provider': 'openai', 'auth': {}, 'override': {'endpoint': 'ftp://x/y'}}"))
        .singleElement()
        .asString()
        .contains("override.endpoint: \"ftp://x/y\" (expected: an http or https URL with a host)");
    assertThat(
            compileProblems(
                "ai-proxy-multi",
                "{'instances': [{'name': 'a', 'provider': 'openai', 'weight': 1, 'auth': {}},"
                    + " {'name': 'a', 'provider': 'deepseek', 'weight': 1, 'auth': {}}]}"))
        .singleElement()
        .asString()
        .contains("instances[1].name: \"a\" (expected: a name no other instance has)");
    assertThat(
            compileProblems(
                "ai-proxy-multi",
                "{'balancer': {'algorithm': 'chash', 'hash_on': 'header'}, 'instances':"
                    + " [{'name': 'a', 'provider': 'openai', 'weight': 1, 'auth': {}}]}"))
        .singleElement()
        .asString()
        .contains("balancer.key: missing");
    assertThat(compileProblems("ai-prompt-guard", "{'allow_patterns': ['(']}"))
        .singleElement()
        .asString()
        .contains("allow_patterns[0]: \"(\" (expected: a valid regular expression");
  }

  @Test
  void aPatternThatWouldBacktrackWithoutEndIsAnsweredAtOnce() throws Exception {
    // RE2: linear in the text, so the answer is the true one (no match), not a refusal.
    var slow = AiPromptGuardPlugin.compile(List.of("(.*a){12}$", "pass"), "deny_patterns");
    var conf = new AiPromptGuardPlugin.Config(false, false, List.of(), List.of());
    var text =
        ModelJson.mapper()
            .readTree("[{\"role\": \"user\", \"content\": \"" + "a".repeat(40) + "!\"}]");
    assertThat(AiPromptGuardPlugin.check(conf, List.of(), slow.subList(0, 1), text))
        .isSameAs(Outcome.CONTINUE);
    var password =
        ModelJson.mapper().readTree("[{\"role\": \"user\", \"content\": \"a password\"}]");
    assertThat(AiPromptGuardPlugin.check(conf, List.of(), slow, password))
        .isNotSameAs(Outcome.CONTINUE);
  }
}
