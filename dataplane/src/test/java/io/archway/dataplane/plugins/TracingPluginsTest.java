package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tracing plugins' pieces without a gateway: APISIX's schemas and defaults (the plugins' and
 * their plugin_metadata's), the parsing of B3 and sw8 contexts, the samplers, the header patterns.
 */
class TracingPluginsTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();

  static Record bind(String name, String conf) throws Exception {
    return PluginRegistry.bind(
        REGISTRY.get(name), ModelJson.mapper().readTree(conf.replace('\'', '"')));
  }

  static List<String> check(String name, String conf) throws Exception {
    return PluginSchemas.check(
            name, ModelJson.mapper().readTree(conf.replace('\'', '"')), "plugins." + name)
        .stream()
        .map(Problem::toString)
        .toList();
  }

  static ObjectNode json(String s) throws Exception {
    return (ObjectNode) ModelJson.mapper().readTree(s.replace('\'', '"'));
  }

  @Test
  void prioritiesAndDefaultsAreApisixs() throws Exception {
    assertThat(REGISTRY.get("zipkin").priority()).isEqualTo(12011);
    assertThat(REGISTRY.get("skywalking").priority()).isEqualTo(12010);
    assertThat(REGISTRY.get("opentelemetry").priority()).isEqualTo(12009);
    assertThat(bind("opentelemetry", "{}").toString())
        .isEqualTo(
            "Config[sampler=SamplerConf[name=always_off, options=SamplerOptions[fraction=0.0,"
                + " root=RootSampler[name=always_off, options=RootOptions[fraction=0.0]]]],"
                + " additionalAttributes=null, additionalHeaderPrefixAttributes=null]");
    assertThat(bind("zipkin", "{'endpoint': 'http://z/api/v2/spans', 'sample_ratio': 1}"))
        .hasToString(
            "Config[endpoint=http://z/api/v2/spans, sampleRatio=1.0, serviceName=APISIX,"
                + " serverAddr=null, spanVersion=2]");
    assertThat(bind("skywalking", "{}")).hasToString("Config[sampleRatio=1.0]");
  }

  @Test
  void badConfigurationsNameTheField() throws Exception {
    assertThat(check("zipkin", "{'sample_ratio': 1}"))
        .containsExactly("plugins.zipkin.endpoint: missing (expected: string)");
    assertThat(check("zipkin", "{'endpoint': 'http://z', 'sample_ratio': 0}"))
        .containsExactly("plugins.zipkin.sample_ratio: 0 (expected: 0.00001..1)");
    assertThat(check("zipkin", "{'endpoint': 'http://z', 'sample_ratio': 1, 'span_version': 3}"))
        .singleElement()
        .asString()
        .startsWith("plugins.zipkin.span_version: 3");
    assertThat(check("skywalking", "{'sample_ratio': 2}"))
        .containsExactly("plugins.skywalking.sample_ratio: 2 (expected: 0.00001..1)");
    assertThat(check("opentelemetry", "{'sampler': {'name': 'sometimes'}}"))
        .singleElement()
        .asString()
        .startsWith("plugins.opentelemetry.sampler.name: \"sometimes\"");
    assertThat(check("opentelemetry", "{'additional_attributes': ['']}"))
        .singleElement()
        .asString()
        .startsWith("plugins.opentelemetry.additional_attributes[0]");
  }

  @Test
  void metadataHasApisixsDefaultsAndIsChecked() throws Exception {
    var otel = Tracing.metadata("opentelemetry", null);
    assertThat(otel.path("trace_id_source").asText()).isEqualTo("random");
    assertThat(otel.path("collector").path("address").asText()).isEqualTo("127.0.0.1:4318");
    assertThat(otel.path("collector").path("request_timeout").asInt()).isEqualTo(3);
    assertThat(otel.path("set_ngx_var").asBoolean()).isFalse();
    var sw = Tracing.metadata("skywalking", json("{'service_name': 'shop'}"));
    assertThat(sw.path("service_name").asText()).isEqualTo("shop");
    assertThat(sw.path("endpoint_addr").asText()).isEqualTo("http://127.0.0.1:12800");
    assertThat(sw.path("service_instance_name").asText()).isEqualTo("APISIX Instance Name");
    assertThatThrownBy(
            () -> Tracing.metadata("opentelemetry", json("{'trace_id_source': 'header'}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("trace_id_source: \"header\"");
    assertThatThrownBy(
            () ->
                Tracing.metadata("opentelemetry", json("{'collector': {'request_timeout': 'x'}}")))
        .hasMessageStartingWith("collector.request_timeout");
    assertThatThrownBy(() -> Tracing.metadata("skywalking", json("{'report_interval': 1.5}")))
        .hasMessageStartingWith("report_interval");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "null",
      textBlock =
          """
          1                                                          | null             | null             | 1    | null
          d                                                          | null             | null             | d    | null
          80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1          | 80f198ee56343ba864fe8b2a57d3eff7 | e457b5a2e4d86bd1 | null | null
          80f198ee56343ba8-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90       | 80f198ee56343ba8 | e457b5a2e4d86bd1 | 1    | 05e3ac9a4f6e3b90
          """)
  void singleB3IsParsed(String b3, String trace, String span, String sampled, String parent) {
    var ctx = ZipkinPlugin.B3.single(b3);
    assertThat(ctx).isNotNull();
    assertThat(ctx.traceId()).isEqualTo(trace);
    assertThat(ctx.spanId()).isEqualTo(span);
    assertThat(ctx.sampled()).isEqualTo(sampled);
    assertThat(ctx.parentId()).isEqualTo(parent);
  }

  @ParameterizedTest
  @CsvSource({
    "x",
    "2",
    "80f198ee56343ba8",
    "80f198ee56343ba8-xyz",
    "80f198ee56343ba8-e457b5a2e4d86bd1-2",
    "80f198ee56343ba8-e457b5a2e4d86bd1-1-05e3",
    "0000000000000000-e457b5a2e4d86bd1",
    "80f198ee56343ba8-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x"
  })
  void malformedB3IsRefused(String b3) {
    assertThat(ZipkinPlugin.B3.single(b3)).isNull();
  }

  @Test
  void multiB3WithBadIdsStartsANewTraceButKeepsTheDecision() {
    var h = new DefaultHttpHeaders().set("x-b3-traceid", "nothex").set("x-b3-sampled", "1");
    var ctx = ZipkinPlugin.B3.multi(h);
    assertThat(ctx.traceId()).isNull();
    assertThat(ctx.sampled()).isEqualTo("1");
  }

  @Test
  void sw8IsParsedAndBadOnesIgnored() {
    var enc = java.util.Base64.getEncoder();
    var sw8 =
        String.join(
            "-",
            "1",
            enc.encodeToString("t1".getBytes()),
            enc.encodeToString("s1".getBytes()),
            "3",
            enc.encodeToString("svc".getBytes()),
            enc.encodeToString("inst".getBytes()),
            enc.encodeToString("/api".getBytes()),
            enc.encodeToString("gw:9080".getBytes()));
    assertThat(SkywalkingPlugin.Sw8.parse(sw8))
        .isEqualTo(new SkywalkingPlugin.Sw8("t1", "s1", 3, "svc", "inst", "/api", "gw:9080"));
    assertThat(SkywalkingPlugin.Sw8.parse("1-a-b")).isNull();
    assertThat(SkywalkingPlugin.Sw8.parse(sw8.replace("-3-", "-x-"))).isNull();
    assertThat(SkywalkingPlugin.Sw8.parse("0" + sw8.substring(1))).isNull();
    assertThat(SkywalkingPlugin.Sw8.parse(null)).isNull();
  }

  @Test
  void samplersAreTheSdksOwn() throws Exception {
    var conf = (OpentelemetryPlugin.Config) bind("opentelemetry", "{}");
    assertThat(OpentelemetryPlugin.sampler(conf.sampler()).getDescription())
        .isEqualTo("AlwaysOffSampler");
    conf =
        (OpentelemetryPlugin.Config)
            bind("opentelemetry", "{'sampler': {'name': 'always_on'}}".replace('\'', '"'));
    assertThat(OpentelemetryPlugin.sampler(conf.sampler()).getDescription())
        .isEqualTo("AlwaysOnSampler");
    conf =
        (OpentelemetryPlugin.Config)
            bind(
                "opentelemetry",
                "{'sampler': {'name': 'trace_id_ratio', 'options': {'fraction': 0.5}}}"
                    .replace('\'', '"'));
    assertThat(OpentelemetryPlugin.sampler(conf.sampler()).getDescription())
        .isEqualTo("TraceIdRatioBased{0.500000}");
    conf =
        (OpentelemetryPlugin.Config)
            bind(
                "opentelemetry",
                "{'sampler': {'name': 'parent_base', 'options': {'root': {'name': 'always_on'}}}}"
                    .replace('\'', '"'));
    assertThat(OpentelemetryPlugin.sampler(conf.sampler()).getDescription())
        .startsWith("ParentBased{root:AlwaysOnSampler");
  }

  @Test
  void headerPatternsMatchNamesAndPrefixes() {
    var h =
        new DefaultHttpHeaders()
            .add("X-Tenant-Id", "t1")
            .add("X-Tenant-Region", "eu")
            .add("User-Agent", "curl")
            .add("Accept", "*/*");
    var got = new LinkedHashMap<String, String>();
    Tracing.headers(h, List.of("x-tenant-*", "User-Agent"), got::put);
    assertThat(got)
        .containsExactly(
            java.util.Map.entry("x-tenant-id", "t1"),
            java.util.Map.entry("x-tenant-region", "eu"),
            java.util.Map.entry("user-agent", "curl"));
  }

  @Test
  void idsAreHexAndNeverZero() {
    for (int i = 0; i < 100; i++) {
      assertThat(Tracing.isHexId(Tracing.hexId(8), 16)).isTrue();
      assertThat(Tracing.isHexId(Tracing.hexId(16), 32)).isTrue();
    }
    assertThat(Tracing.isHexId("00000000000000000000000000000000", 32)).isFalse();
    assertThat(Tracing.isHexId("abc", 16)).isFalse();
  }
}
