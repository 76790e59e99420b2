package io.archway.dataplane.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class GrpcHealthProbeTest {

  static boolean serving(int http, String grpcStatus, boolean inTrailers, int... body) {
    var bytes = new byte[body.length];
    for (int i = 0; i < body.length; i++) {
      bytes[i] = (byte) body[i];
    }
    FullHttpResponse res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(http), Unpooled.wrappedBuffer(bytes));
    try {
      if (grpcStatus != null) {
        (inTrailers ? res.trailingHeaders() : res.headers()).set("grpc-status", grpcStatus);
      }
      return GrpcHealthProbe.serving(res);
    } finally {
      res.release();
    }
  }

  @Test
  void servingOnlyWhenTheAnswerSaysSo() {
    assertThat(serving(200, "0", true, 0, 0, 0, 0, 2, 0x08, 1)).isTrue();
    assertThat(serving(200, "0", true, 0, 0, 0, 0, 2, 0x08, 2)).as("NOT_SERVING").isFalse();
    assertThat(serving(200, "0", true, 0, 0, 0, 0, 0)).as("no status: UNKNOWN").isFalse();
    assertThat(serving(200, "12", false)).as("trailers-only UNIMPLEMENTED").isFalse();
    assertThat(serving(200, null, true, 0, 0, 0, 0, 2, 0x08, 1)).as("no grpc-status").isFalse();
    assertThat(serving(503, "0", true, 0, 0, 0, 0, 2, 0x08, 1)).isFalse();
    assertThat(serving(200, "0", true, 1, 0, 0, 0, 2, 0x08, 1)).as("compressed").isFalse();
    assertThat(serving(200, "0", true, 0, 0, 0, 0, 3, 0x08, 1)).as("length").isFalse();
    assertThat(serving(200, "0", true, 0, 0, 0, 0, 2, 0x10, 1)).as("other field").isFalse();
  }
}
