package io.archway.dataplane.flow;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PluginFlows run on routes: branching on outcomes, default edges, results between nodes. */
class FlowIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  /**
   * key-auth first; a pass goes on to a rewrite that passes the consumer on, then branches on who
   * it is; a 401 goes to limit-req, so anonymous requests are proxied but rate limited.
   */
  static final String FLOW =
      """
      rule:
        root: auth
        auth: [["code == 200", "tag"], ["code == 401", "anonymous"]]
        tag: [["consumer == 'jack'", "jack"], ["", "others"]]
      conf:
        auth: {name: key-auth, conf: {}}
        tag: {name: proxy-rewrite, conf: {headers: {set: {X-Consumer: $consumer}}}}
        jack: {name: response-rewrite, conf: {headers: {set: {X-Jack: "yes"}}}}
        others: {name: fault-injection, conf: {abort: {http_status: 402, body: "pay first"}}}
        anonymous: {name: limit-req, conf: {rate: 1, burst: 0, key: remote_addr, nodelay: true}}
      """;

  String config(String routeFlowFields, String flows) {
    return """
        consumers:
          - username: jack
            plugins: {key-auth: {key: jack-key}}
          - username: bob
            plugins: {key-auth: {key: bob-key}}
        %s
        routes:
          - id: r1
            uri: /*
            upstream:
              nodes:
                "%s": 1
        %s
        """
        .formatted(flows, up.node(), routeFlowFields.indent(4).stripTrailing());
  }

  void assertTheFlowRuns() throws Exception {
    var jack = gw.get("/a", "apikey", "jack-key");
    assertThat(jack.statusCode()).isEqualTo(200);
    assertThat(jack.headers().firstValue("x-jack")).hasValue("yes");
    assertThat(up.lastHeaders()).containsEntry("x-consumer", "jack");
    var bob = gw.get("/a", "apikey", "bob-key");
    assertThat(bob.statusCode()).isEqualTo(402);
    assertThat(bob.body()).isEqualTo("pay first");
    assertThat(bob.headers().firstValue("x-jack")).isEmpty();
    // No key: key-auth answers 401, the flow goes on to limit-req, which lets one through.
    var anonymous = gw.get("/a");
    assertThat(anonymous.statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).doesNotContainKey("x-consumer");
    assertThat(gw.get("/a").statusCode()).isEqualTo(503);
  }

  @Test
  void aStoredFlowBranchesOnCodesResultsAndDefaultEdges() throws Exception {
    gw =
        Gateways.start(
            dir, config("plugin_flow_id: f1", "plugin_flows:\n  - id: f1\n" + FLOW.indent(4)));
    assertTheFlowRuns();
  }

  @Test
  void anInlineFlowRunsTheSame() throws Exception {
    gw = Gateways.start(dir, config("plugin_flow:\n" + FLOW.indent(2), ""));
    assertTheFlowRuns();
  }

  @Test
  void aNodeWithoutAnEdgeToFollowAnswersWithItsResponse() throws Exception {
    gw =
        Gateways.start(
            dir,
            config(
                """
                plugin_flow:
                  rule:
                    root: auth
                    auth: [["code == 200 and arg_mode == 'echo'", "echo"]]
                  conf:
                    auth: {name: key-auth, conf: {}}
                    echo: {name: echo, conf: {before_body: "<", after_body: ">"}}
                """,
                ""));
    assertThat(gw.get("/a").statusCode()).isEqualTo(401);
    assertThat(gw.get("/a", "apikey", "jack-key").body()).isEqualTo("up");
    assertThat(gw.get("/a?mode=echo", "apikey", "jack-key").body()).isEqualTo("<up>");
  }

  @Test
  void aRouteWhoseFlowIsMissingOrInvalidAnswers503AndTheOthersServe() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            plugin_flows:
              - id: bad
                rule: {root: a}
                conf:
                  a: {name: no-such-plugin, conf: {}}
            routes:
              - id: missing
                uri: /missing
                plugin_flow_id: nowhere
                upstream: {nodes: {"%s": 1}}
              - id: invalid
                uri: /invalid
                plugin_flow_id: bad
                upstream: {nodes: {"%s": 1}}
              - id: fine
                uri: /fine
                upstream: {nodes: {"%s": 1}}
            """
                .formatted(up.node(), up.node(), up.node()));
    assertThat(gw.get("/missing").statusCode()).isEqualTo(503);
    assertThat(gw.get("/invalid").statusCode()).isEqualTo(503);
    assertThat(gw.get("/fine").statusCode()).isEqualTo(200);
    assertThat(up.requests()).isEqualTo(1);
    assertThat(gw.status("/metrics"))
        .contains("archway_config_objects_rejected{kind=\"plugin_flows\"} 1");
  }

  @Test
  void aRouteWithAnInlineFlowThatDoesNotCompileIsNotServed() throws Exception {
    gw =
        Gateways.start(
            dir,
            config(
                """
                plugin_flow:
                  rule: {root: a}
                  conf:
                    a: {name: limit-count, conf: {count: -1, time_window: 1}}
                """,
                ""));
    assertThat(gw.get("/a").statusCode()).isEqualTo(404);
  }
}
