package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * gRPC-Web's codec: the trailer frame, the base64 decoded across any split and across padded
 * segments, and what is refused; the plugin's helpers (content types, the gRPC path of a prefix
 * route, the HTTP to gRPC status mapping) and its schema's defaults.
 */
class GrpcWebCodecTest {

  static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

  static String ascii(ByteBuf b) {
    try {
      return b.toString(StandardCharsets.ISO_8859_1);
    } finally {
      b.release();
    }
  }

  static ByteBuf buf(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  @Test
  void trailerFrameHasTheFlagTheLengthAndTheFieldLines() {
    var frame =
        GrpcWebCodec.trailerFrame(
            List.of(Map.entry("grpc-status", "5"), Map.entry("Grpc-Message", "no%20such")), ALLOC);
    var bytes = ByteBufUtil.getBytes(frame);
    frame.release();
    var text = "grpc-status: 5\r\ngrpc-message: no%20such\r\n";
    assertThat(bytes[0] & 0xff).isEqualTo(0x80);
    assertThat(Unpooled.wrappedBuffer(bytes, 1, 4).readInt()).isEqualTo(text.length());
    assertThat(new String(bytes, 5, bytes.length - 5, StandardCharsets.UTF_8)).isEqualTo(text);
  }

  @Test
  void trailerFieldsPutTheStatusFirstAndTakeTheTrailers() {
    var head = new DefaultHttpHeaders().set("grpc-message", "gone");
    var trailers = new DefaultHttpHeaders().set("x-extra", "1").set("grpc-status", "14");
    var fields = GrpcWebCodec.trailerFields(head, trailers);
    assertThat(fields)
        .containsExactly(
            Map.entry("grpc-status", "14"),
            Map.entry("grpc-message", "gone"),
            Map.entry("x-extra", "1"));
    assertThat(trailers.isEmpty()).isTrue();
  }

  @Test
  void base64IsDecodedAcrossAnySplitAndAcrossSegments() {
    var data = new byte[300];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 7);
    }
    var enc = Base64.getEncoder();
    // Three segments, each padded, as clients encoding message by message send them.
    var text =
        enc.encodeToString(java.util.Arrays.copyOfRange(data, 0, 1))
            + enc.encodeToString(java.util.Arrays.copyOfRange(data, 1, 101))
            + "\r\n"
            + enc.encodeToString(java.util.Arrays.copyOfRange(data, 101, 300));
    for (int split = 1; split < 9; split++) {
      var d = new GrpcWebCodec.Base64Decoder();
      var out = Unpooled.buffer();
      for (int i = 0; i < text.length(); i += split) {
        var piece = d.next(buf(text.substring(i, Math.min(text.length(), i + split))), ALLOC);
        out.writeBytes(piece);
        piece.release();
      }
      d.finish();
      assertThat(ByteBufUtil.getBytes(out)).as("split " + split).isEqualTo(data);
    }
  }

  @Test
  void whatIsNotBase64IsRefusedAndReleased() {
    for (var bad : List.of("ab%d", "a===", "ab=c", "ab==c=")) {
      var d = new GrpcWebCodec.Base64Decoder();
      var in = buf(bad);
      assertThatThrownBy(() -> d.next(in, ALLOC).release())
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(in.refCnt()).isZero();
    }
    var unfinished = new GrpcWebCodec.Base64Decoder();
    unfinished.next(buf("abc"), ALLOC).release();
    assertThatThrownBy(unfinished::finish).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void eachPieceIsAPaddedSegment() {
    assertThat(ascii(GrpcWebCodec.encodeBase64(buf("a"), ALLOC))).isEqualTo("YQ==");
    assertThat(ascii(GrpcWebCodec.encodeBase64(buf("abc"), ALLOC))).isEqualTo("YWJj");
    assertThat(GrpcWebCodec.encodeBase64(Unpooled.buffer(0), ALLOC).readableBytes()).isZero();
  }

  @Test
  void contentTypesPathsAndStatuses() {
    assertThat(GrpcWebPlugin.textMode("application/grpc-web")).isFalse();
    assertThat(GrpcWebPlugin.textMode("application/grpc-web+proto")).isFalse();
    assertThat(GrpcWebPlugin.textMode("application/grpc-web-text")).isTrue();
    assertThat(GrpcWebPlugin.textMode("Application/gRPC-Web-Text+proto; charset=x")).isTrue();
    assertThat(GrpcWebPlugin.textMode("application/grpc")).isNull();
    assertThat(GrpcWebPlugin.textMode("application/json")).isNull();
    assertThat(GrpcWebPlugin.textMode(null)).isNull();

    assertThat(GrpcWebPlugin.grpcPath("/grpc/web/a.S/M", List.of("/grpc/web/*")))
        .isEqualTo("/a.S/M");
    assertThat(GrpcWebPlugin.grpcPath("/grpc/a.S/M", List.of("/x/*", "/grpc*")))
        .isEqualTo("/a.S/M");
    assertThat(GrpcWebPlugin.grpcPath("/a.S/M", List.of("/*"))).isEqualTo("/a.S/M");
    assertThat(GrpcWebPlugin.grpcPath("/a.S/M", List.of("/a.S/M"))).isNull();

    assertThat(GrpcWebPlugin.grpcStatusOf(401)).isEqualTo(16);
    assertThat(GrpcWebPlugin.grpcStatusOf(404)).isEqualTo(12);
    assertThat(GrpcWebPlugin.grpcStatusOf(502)).isEqualTo(14);
    assertThat(GrpcWebPlugin.grpcStatusOf(500)).isEqualTo(2);
  }

  @Test
  void schemaDefaultsAreApisixs() throws Exception {
    var registry = PluginRegistry.load();
    var conf = PluginRegistry.bind(registry.get("grpc-web"), ModelJson.mapper().readTree("{}"));
    assertThat(conf.toString())
        .isEqualTo("Config[corsAllowHeaders=content-type,x-grpc-web,x-user-agent]");
    assertThat(registry.get("grpc-web").priority()).isEqualTo(505);
    assertThat(
            PluginSchemas.check(
                "grpc-web", ModelJson.mapper().readTree("{\"cors_allow_headers\": 1}"), "p"))
        .hasSize(1);
    assertThat(PluginSchemas.check("grpc-web", ModelJson.mapper().readTree("{\"other\": 1}"), "p"))
        .hasSize(1);
  }
}
