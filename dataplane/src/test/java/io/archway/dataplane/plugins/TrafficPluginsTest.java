package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.ModelJson;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The logic of the traffic plugins, apart from a request: matching, ids, examples, compression. */
class TrafficPluginsTest {

  @Test
  void userAgentRulesAreSearchedInTheTrimmedValue() {
    var rules = UaRestrictionPlugin.compileAll(List.of("(Baiduspider)", "^curl/"), "denylist");
    assertThat(UaRestrictionPlugin.matches(rules, "Mozilla/5.0 (Baiduspider) x")).isTrue();
    assertThat(UaRestrictionPlugin.matches(rules, "  curl/8.0  ")).isTrue();
    assertThat(UaRestrictionPlugin.matches(rules, "Mozilla/5.0 curl/8.0")).isFalse();
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "null",
      value = {
        "http://www.example.com/a?b, www.example.com",
        "https://WWW.Example.COM:8443, www.example.com",
        "//cdn.example.com/x, cdn.example.com",
        "http://a.example?x=1, a.example",
        "www.example.com, null",
        "http://, null",
        "not a uri, null"
      })
  void theRefererHostIsItsAuthorityWithoutPort(String referer, String host) {
    assertThat(RefererRestrictionPlugin.host(referer)).isEqualTo(host);
  }

  @Test
  void refererPatternsAreExactHostsOrSuffixes() {
    var hosts = RefererRestrictionPlugin.Hosts.of(List.of("*.example.com", "Other.Example"));
    assertThat(hosts.contains("a.example.com")).isTrue();
    assertThat(hosts.contains("a.b.example.com")).isTrue();
    assertThat(hosts.contains("example.com")).isFalse();
    assertThat(hosts.contains("other.example")).isTrue();
    assertThat(hosts.contains("x.other.example")).isFalse();
  }

  @Test
  void uriBlockRulesAreOneAlternationOptionallyIgnoringCase() {
    var rules = UriBlockerPlugin.compileRules(List.of("root.exe", "root.m+"), false);
    assertThat(rules.matcher("/a/root.exe?x").find()).isTrue();
    assertThat(rules.matcher("/root.mmm").find()).isTrue();
    assertThat(rules.matcher("/ROOT.exe").find()).isFalse();
    var insensitive = UriBlockerPlugin.compileRules(List.of("root.exe"), true);
    assertThat(insensitive.matcher("/ROOT.EXE").find()).isTrue();
    assertThat(UriBlockerPlugin.compileRules(List.of(), false).matcher("/x").find()).isFalse();
    // A rule cannot swallow the others' alternation.
    assertThat(UriBlockerPlugin.compileRules(List.of("a|b", "^/c$"), false).pattern())
        .isEqualTo("(?:a|b)|(?:^/c$)");
  }

  @Test
  void ksuidIsTheReferenceEncoding() {
    // The example of KSUID's specification: timestamp 107608047 after its epoch.
    var payload = HexFormat.of().parseHex("B5A1CD34B5F99D1154FB6853345C9735");
    assertThat(RequestIdPlugin.ksuid(1_400_000_000L + 107_608_047L, payload))
        .isEqualTo("0ujtsYcgvSTl8PAuAdqWYSMnLOv");
    var zero = RequestIdPlugin.ksuid(1_400_000_000L, new byte[16]);
    assertThat(zero).isEqualTo("000000000000000000000000000");
    // Later ids sort after earlier ones.
    assertThat(RequestIdPlugin.ksuid(1_800_000_000L, new byte[16]))
        .isGreaterThan(RequestIdPlugin.ksuid(1_700_000_000L, payload))
        .hasSize(27);
  }

  @Test
  void mockExamplesFollowTheSchemaAndItsExamples() throws Exception {
    var schema =
        ModelJson.mapper()
            .readTree(
                """
                {"type": "object", "properties": {
                  "name": {"type": "string", "example": "jack"},
                  "age": {"type": "integer", "example": 30.7},
                  "score": {"type": "number"},
                  "ok": {"type": "boolean", "example": true},
                  "tags": {"type": "array", "items": {"type": "string"}},
                  "nested": {"type": "object", "properties": {"id": {"type": "integer"}}},
                  "nothing": {"type": "array"}
                }}""");
    var value = MockingPlugin.generate(schema, new Random(1));
    assertThat(value.get("name").asText()).isEqualTo("jack");
    assertThat(value.get("age").asLong()).isEqualTo(30);
    assertThat(value.get("score").isNumber()).isTrue();
    assertThat(value.get("ok").asBoolean()).isTrue();
    assertThat(value.get("tags").size()).isBetween(1, 3);
    assertThat(value.get("tags").get(0).asText()).matches("[a-z]{1,10}");
    assertThat(value.get("nested").get("id").asInt()).isBetween(1, 10000);
    assertThat(value.get("nothing").isNull()).isTrue();
    assertThat(
            MockingPlugin.xml(
                "data",
                ModelJson.mapper().readTree("{\"a\": \"<x>\", \"b\": [1, 2], \"c\": null}")))
        .isEqualTo("<data><a>&lt;x&gt;</a><b>1</b><b>2</b></data>");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "null",
      value = {
        "gzip | true",
        "deflate, gzip;q=0.5 | true",
        "GZIP | true",
        "gzip;q=0 | false",
        "gzip; q=0.0 | false",
        "deflate, br | false",
        "x-gzip | false",
        "null | false"
      })
  void acceptEncodingIsReadWithItsWeights(String header, boolean accepts) {
    assertThat(GzipPlugin.acceptsGzip(header)).isEqualTo(accepts);
  }

  @Test
  void theGzipStreamCompressesPieceByPieceAndReleasesWhatItTakes() throws Exception {
    var alloc = ByteBufAllocator.DEFAULT;
    var stream = new GzipPlugin.GzipStream(6);
    var text = "Archway streams this body. ".repeat(2000);
    var bytes = text.getBytes(StandardCharsets.UTF_8);
    CompositeByteBuf all = alloc.compositeBuffer();
    int pieces = 0;
    for (int i = 0; i < bytes.length; i += 8192) {
      var in = alloc.buffer().writeBytes(bytes, i, Math.min(8192, bytes.length - i));
      var out = stream.next(in, alloc);
      // Each piece comes out as it goes in (sync-flushed), not held to the end.
      assertThat(out.readableBytes()).isPositive();
      assertThat(in.refCnt()).isZero();
      all.addComponent(true, out);
      pieces++;
    }
    all.addComponent(true, stream.finish(alloc));
    assertThat(pieces).isGreaterThan(1);
    var gz = ByteBufUtil.getBytes(all);
    all.release();
    assertThat(gz.length).isLessThan(bytes.length / 10);
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(text);
    }
  }

  @Test
  void anAbortedGzipStreamFreesItsBuffers() {
    var stream = new GzipPlugin.GzipStream(1);
    stream
        .next(Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8), ByteBufAllocator.DEFAULT)
        .release();
    stream.abort();
  }

  @Test
  void refererHostPatternIsTheSchemas() {
    // The schema's pattern and the plugin's reading of it agree on what a wildcard is.
    var p = Pattern.compile("^\\*?[0-9a-zA-Z-._\\[\\]:]+$");
    assertThat(p.matcher("*.example.com").matches()).isTrue();
    assertThat(p.matcher("a.*.example").matches()).isFalse();
  }
}
