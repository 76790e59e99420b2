package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.ModelJson;
import org.junit.jupiter.api.Test;

/** The Admin API refuses, naming it, what the dataplane would keep without acting on. */
class AdminValidationStrictTest {

  private final AdminValidation validation = new AdminValidation(PluginRegistry.load());

  private String check(String path, String json) throws Exception {
    return validation.check(
        AdminPaths.parse(path).orElseThrow(), (ObjectNode) ModelJson.mapper().readTree(json));
  }

  @Test
  void refusesWhatIsNotRunNamingIt() throws Exception {
    assertThat(
            check(
                "stream_routes/1",
                "{\"server_port\": 9100, \"upstream_id\": \"1\","
                    + " \"plugins\": {\"key-auth\": {}}}"))
        .contains("plugins.key-auth: plugin \"key-auth\" does not run on stream routes");
    assertThat(check("plugin_metadata/no-such", "{\"log_format\": {\"host\": \"$host\"}}"))
        .contains("unknown plugin \"no-such\"");
    assertThat(
            check(
                "upstreams/1",
                "{\"service_name\": \"APISIX-NACOS\", \"discovery_type\": \"nacos\"}"))
        .contains("discovery_type: \"nacos\" (expected: kubernetes or dns, the discovery types");
    assertThat(
            check(
                "upstreams/2",
                "{\"type\": \"chash\", \"hash_on\": \"vars\", \"key\": \"$aaa\","
                    + " \"nodes\": {\"127.0.0.1:80\": 1}}"))
        .contains("key: \"$aaa\" is not a request variable");
    assertThat(
            check(
                "routes/1", "{\"uri\": \"/a\", \"upstream_id\": \"1\", \"plugins\": {\"gm\": {}}}"))
        .contains("plugins.gm: APISIX plugin \"gm\" is refused by Archway");
    assertThat(
            check(
                "routes/2",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\", \"plugins\": {\"key-auth\": {},"
                    + " \"response-rewrite\": {\"body\": \"$secret://vault/1\"}}}"))
        .contains(
            "plugins.response-rewrite.body: $secret://vault/1: not a secret reference (expected:"
                + " $secret://<manager>/<id>/<path>/<key>");
    // A well-formed reference is stored as it is: the dataplane reads it when it compiles.
    assertThat(
            check(
                "routes/3",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\", \"plugins\": {"
                    + " \"response-rewrite\": {\"body\": \"$secret://vault/1/x/y\"}}}"))
        .isNull();
  }

  @Test
  void aNullPluginConfigurationIsItsDefaults() throws Exception {
    assertThat(
            check(
                "routes/1",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\", \"plugins\": {\"key-auth\": null}}"))
        .isNull();
  }

  /** Users' regexes run on RE2 (linear time): what it cannot run is refused, naming the field. */
  @Test
  void refusesARegexRe2DoesNotRunNamingTheField() throws Exception {
    var re2 = "(expected: a valid regular expression in RE2 syntax, without backreferences or";
    assertThat(
            check(
                "routes/1",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\","
                    + " \"vars\": [[\"arg_x\", \"~~\", \"^(?!admin)\"]]}"))
        .contains("vars[0][2]: \"^(?!admin)\" " + re2);
    assertThat(
            check(
                "routes/2",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\", \"plugins\": {\"proxy-rewrite\":"
                    + " {\"regex_uri\": [\"^/(a)\\\\1\", \"/$1\"]}}}"))
        .contains("plugins.proxy-rewrite.regex_uri[0]: \"^/(a)\\1\" " + re2);
    assertThat(
            check(
                "routes/3",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\", \"plugins\": {\"uri-blocker\":"
                    + " {\"block_rules\": [\"ok\", \"(?<=x)y\"]}}}"))
        .contains("plugins.uri-blocker.block_rules[1]: \"(?<=x)y\" " + re2);
    // A catastrophic pattern for a backtracking engine is fine for RE2: accepted.
    assertThat(
            check(
                "routes/4",
                "{\"uri\": \"/a\", \"upstream_id\": \"1\","
                    + " \"vars\": [[\"arg_x\", \"~~\", \"^(a+)+$\"]]}"))
        .isNull();
  }
}
