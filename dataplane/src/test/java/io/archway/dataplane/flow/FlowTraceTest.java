package io.archway.dataplane.flow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.PluginFlow;
import io.archway.model.Problem;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dry-run of the seed's flow (key-auth; on 401 limit-req; else kafka-logger): both branches,
 * the logger's entry reported and never sent, the limiter's real state untouched, a Redis policy
 * never contacted, a plugin that cannot be simulated never run.
 */
public class FlowTraceTest {

  static final PluginRegistry REGISTRY = PluginRegistry.load();

  PluginServices services;
  ServerSocketChannel broker; // a "Kafka broker" that must never be connected to
  ServerSocketChannel redis; // a "Redis server", likewise
  Consumers consumers;

  @BeforeEach
  void setUp() throws Exception {
    services = new PluginServices();
    broker = listener();
    redis = listener();
    var jack =
        new Consumers.Entry(
            "jack",
            Map.of("key-auth", (ObjectNode) ModelJson.mapper().readTree("{\"key\":\"k1\"}")),
            PluginChain.EMPTY);
    consumers = new Consumers(Map.of("jack", jack), Map.of("key-auth", Map.of("k1", jack)));
  }

  @AfterEach
  void tearDown() throws Exception {
    services.close();
    broker.close();
    redis.close();
  }

  static ServerSocketChannel listener() throws Exception {
    var s = ServerSocketChannel.open();
    s.bind(new InetSocketAddress("127.0.0.1", 0));
    s.configureBlocking(false);
    return s;
  }

  static int port(ServerSocketChannel s) throws Exception {
    return ((InetSocketAddress) s.getLocalAddress()).getPort();
  }

  /**
   * The seed's flow (key-auth; on 401 limit-req; else kafka-logger), with the seed's node ids, a
   * broker address and a strict limit: {@code seed-flow.json} beside this class.
   */
  public static String seedFlow(int brokerPort) throws Exception {
    try (var in = FlowTraceTest.class.getResourceAsStream("seed-flow.json")) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
          .replace("BROKER_PORT", Integer.toString(brokerPort));
    }
  }

  String seedFlow() throws Exception {
    return seedFlow(port(broker));
  }

  CompiledFlow compile(String json, boolean dryRun) throws Exception {
    var flow =
        (PluginFlow)
            ModelJson.read(Kind.PLUGIN_FLOWS, ModelJson.mapper().readTree(json), "f1", "f1");
    var problems = new ArrayList<Problem>();
    var compiled =
        CompiledFlow.compile(flow, "plugin_flows/f1", REGISTRY, services, problems, dryRun);
    assertThat(problems).isEmpty();
    return compiled;
  }

  JsonNode trace(CompiledFlow flow, Map<String, List<String>> headers) throws Exception {
    return FlowTrace.run(
            flow,
            consumers,
            k -> null,
            new FlowTrace.Request(
                "GET", "/get?a=1", "example.com", headers, new byte[0], "10.0.0.7"),
            new FlowTrace.Upstream(200, Map.of("x-up", List.of("1")), "ok".getBytes()))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void withoutAKeyTheFlowTakesThe401EdgeToLimitReq() throws Exception {
    var t = trace(compile(seedFlow(), true), Map.of());
    assertThat(t.get("steps")).hasSize(2);
    var auth = t.get("steps").get(0);
    assertThat(auth.get("node").asText()).isEqualTo("1-2-3");
    assertThat(auth.get("plugin").asText()).isEqualTo("key-auth");
    assertThat(auth.get("outcome").asText()).isEqualTo("respond");
    assertThat(auth.get("status").asInt()).isEqualTo(401);
    assertThat(auth.get("duration_us").asLong()).isNotNegative();
    var limit = t.get("steps").get(1);
    assertThat(limit.get("plugin").asText()).isEqualTo("limit-req");
    assertThat(limit.get("outcome").asText()).isEqualTo("continue");
    assertThat(t.get("edges")).hasSize(1);
    assertThat(t.get("edges").get(0).get("from").asText()).isEqualTo("1-2-3");
    assertThat(t.get("edges").get(0).get("to").asText()).isEqualTo("4-5-6");
    assertThat(t.get("edges").get(0).get("condition").asText()).isEqualTo("code == 401");
    // limit-req let it through: the upstream response stands in.
    assertThat(t.get("response").get("status").asInt()).isEqualTo(200);
    assertThat(t.get("response").get("body").asText()).isEqualTo("ok");
    assertThat(t.get("response").get("headers").get("x-up").asText()).isEqualTo("1");
    assertThat(t.get("logs")).isEmpty();
  }

  @Test
  void withAValidKeyTheDefaultEdgeLeadsToKafkaLoggerWhoseEntryIsReportedNotSent() throws Exception {
    var t = trace(compile(seedFlow(), true), Map.of("apikey", List.of("k1")));
    var auth = t.get("steps").get(0);
    assertThat(auth.get("outcome").asText()).isEqualTo("continue");
    assertThat(auth.get("published").get("consumer").asText()).isEqualTo("jack");
    assertThat(t.get("edges").get(0).get("to").asText()).isEqualTo("7-8-9");
    assertThat(t.get("edges").get(0).get("condition").asText()).isEmpty();
    assertThat(t.get("steps").get(1).get("plugin").asText()).isEqualTo("kafka-logger");
    assertThat(t.get("logs")).hasSize(1);
    var log = t.get("logs").get(0);
    assertThat(log.get("plugin").asText()).isEqualTo("kafka-logger");
    assertThat(log.get("node").asText()).isEqualTo("7-8-9");
    assertThat(log.get("entry").get("request").get("uri").asText()).isEqualTo("/get?a=1");
    assertThat(log.get("entry").get("response").get("status").asInt()).isEqualTo(200);
    // Nothing queued, nothing sent, nobody connected to the broker.
    var counters = services.metrics().logger("kafka-logger");
    assertThat(counters[0].sum() + counters[1].sum() + counters[2].sum()).isZero();
    assertThat(broker.accept()).isNull();
  }

  @Test
  void aHundredDryRunsLeaveTheRealSharedCounterUntouched() throws Exception {
    // limit-count's group counter is shared by every instance of the group (across compiles): a
    // dry-run counting in it would refuse the real flow's first request.
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "limit-count",
                        "conf": {"count": 1, "time_window": 60, "key": "remote_addr",
                                 "group": "studio-test"}}}}
        """;
    var real = compile(flow, false);
    for (int i = 0; i < 100; i++) {
      var t = trace(compile(flow, true), Map.of());
      assertThat(t.get("steps").get(0).get("outcome").asText()).isEqualTo("continue");
    }
    assertThat(trace(real, Map.of()).get("response").get("status").asInt()).isEqualTo(200);
    var second = trace(real, Map.of());
    assertThat(second.get("steps").get(0).get("status").asInt()).isEqualTo(503);
  }

  @Test
  void aRedisPolicyIsCountedLocallyAndRedisNeverContacted() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "limit-count",
                        "conf": {"count": 1, "time_window": 60, "key": "remote_addr",
                                 "policy": "redis", "redis_host": "127.0.0.1",
                                 "redis_port": %d}}}}
        """
            .formatted(port(redis));
    for (int i = 0; i < 3; i++) {
      var t = trace(compile(flow, true), Map.of());
      assertThat(t.get("steps").get(0).get("outcome").asText()).isEqualTo("continue");
      assertThat(t.get("steps").get(0).get("published").get("remaining").asText()).isEqualTo("0");
      assertThat(t.get("steps").get(0).get("simulated").asText()).contains("counted locally");
    }
    // limit-req and limit-conn with a Redis policy say so too.
    for (var conf :
        List.of(
            "\"limit-req\", \"conf\": {\"rate\": 1, \"burst\": 0, \"key\": \"remote_addr\"",
            "\"limit-conn\", \"conf\": {\"conn\": 1, \"burst\": 0,"
                + " \"default_conn_delay\": 0.1, \"key\": \"remote_addr\"")) {
      var other =
          """
          {"rule": {"root": "a"},
           "conf": {"a": {"name": %s, "policy": "redis",
                          "redis_host": "127.0.0.1", "redis_port": %d}}}}
          """
              .formatted(conf, port(redis));
      var t = trace(compile(other, true), Map.of());
      assertThat(t.get("steps").get(0).get("simulated").asText())
          .as(conf)
          .contains("counted locally");
    }
    assertThat(redis.accept()).isNull();
  }

  @Test
  void aPluginThatCannotBeSimulatedIsAnErrorStepAndNeverRuns() throws Exception {
    var flow =
        """
        {"rule": {"root": "a", "a": [["", "b"]]},
         "conf": {"a": {"name": "key-auth", "conf": {}},
                  "b": {"name": "http-logger", "conf": {"uri": "http://127.0.0.1:%d/log"}},
                  "c": {"name": "forward-auth", "conf": {"uri": "http://127.0.0.1:%d/auth"}}}}
        """
            .formatted(port(broker), port(redis))
            .replace("\"a\": [[\"\", \"b\"]]", "\"a\": [[\"code == 401\", \"c\"], [\"\", \"b\"]]");
    var t = trace(compile(flow, true), Map.of());
    var refused = t.get("steps").get(1);
    assertThat(refused.get("plugin").asText()).isEqualTo("forward-auth");
    assertThat(refused.get("outcome").asText()).isEqualTo("error");
    assertThat(refused.get("error_msg").asText()).contains("forward-auth cannot be simulated");
    assertThat(t.get("response").get("status").asInt()).isEqualTo(500);
    assertThat(redis.accept()).isNull();
    // The other branch: http-logger is simulated.
    var logged = trace(compile(flow, true), Map.of("apikey", List.of("k1")));
    assertThat(logged.get("logs").get(0).get("plugin").asText()).isEqualTo("http-logger");
    // Nothing queued (so nothing will be sent after the batch timeout either).
    var counters = services.metrics().logger("http-logger");
    assertThat(counters[0].sum() + counters[1].sum() + counters[2].sum()).isZero();
    assertThat(broker.accept()).isNull();
  }

  @Test
  void aDelayIsReportedNotWaited() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "fault-injection",
                        "conf": {"delay": {"duration": 300}}}}}
        """;
    var t = trace(compile(flow, true), Map.of());
    assertThat(t.get("steps").get(0).get("simulated").asText()).contains("delayed 300000 ms");
    assertThat(t.get("response").get("status").asInt()).isEqualTo(200);
  }

  @Test
  void mockingsDelayIsReportedNotWaited() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "mocking",
                        "conf": {"delay": 30, "response_example": "hi"}}}}
        """;
    var t = trace(compile(flow, true), Map.of());
    assertThat(t.get("steps").get(0).get("simulated").asText()).contains("delayed 30000 ms");
    assertThat(t.get("response").get("body").asText()).isEqualTo("hi");
  }

  @Test
  void anEmptyBodyIsDeliveredToAPluginReadingIt() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "request-validation",
                        "conf": {"body_schema": {"type": "object", "required": ["a"]}}}}}
        """;
    var t = trace(compile(flow, true), Map.of()); // waited for the body (60 s) before
    assertThat(t.get("steps").get(0).get("status").asInt()).isEqualTo(400);
  }

  @Test
  void referencesAreShownNeverResolved() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "mocking",
                        "conf": {"response_example": "hi",
                                 "response_headers": {"x-e": "$env://PATH",
                                                      "x-s": "$secret://vault/1/jack/key"}}}}}
        """;
    // No secret manager is configured: resolving the reference would fail the compile.
    var t = trace(compile(flow, true), Map.of());
    assertThat(t.get("response").get("headers").get("x-e").asText())
        .isEqualTo("<secret $env://PATH>");
    assertThat(t.get("response").get("headers").get("x-s").asText())
        .isEqualTo("<secret $secret://vault/1/jack/key>");
  }

  @Test
  void aStreamingBodyFilterIsSaidNotApplied() throws Exception {
    var flow =
        """
        {"rule": {"root": "a"},
         "conf": {"a": {"name": "gzip", "conf": {"types": "*", "min_length": 1}}}}
        """;
    var t =
        FlowTrace.run(
                compile(flow, true),
                consumers,
                k -> null,
                new FlowTrace.Request(
                    "GET",
                    "/get",
                    "example.com",
                    Map.of("accept-encoding", List.of("gzip")),
                    new byte[0],
                    "10.0.0.7"),
                new FlowTrace.Upstream(
                    200, Map.of("content-type", List.of("text/plain")), "ok".getBytes()))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(t.get("response").get("headers").get("content-encoding").asText()).isEqualTo("gzip");
    assertThat(t.get("steps").get(0).get("simulated").asText()).contains("not applied");
    assertThat(t.get("response").get("body").asText()).isEqualTo("ok");
  }
}
