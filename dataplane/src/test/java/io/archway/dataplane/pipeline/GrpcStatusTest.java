package io.archway.dataplane.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GrpcStatusTest {

  static HttpRequest request(String... headers) {
    var req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/pkg.Svc/M");
    for (int i = 0; i < headers.length; i += 2) {
      req.headers().add(headers[i], headers[i + 1]);
    }
    return req;
  }

  @Test
  void grpcIsTheContentTypeWithItsSubtypesNotGrpcWeb() {
    assertThat(GrpcStatus.isGrpc(request("content-type", "application/grpc"))).isTrue();
    assertThat(GrpcStatus.isGrpc(request("content-type", "application/grpc+proto"))).isTrue();
    assertThat(GrpcStatus.isGrpc(request("content-type", "Application/GRPC;x=1"))).isTrue();
    assertThat(GrpcStatus.isGrpc(request("content-type", "application/grpc-web"))).isFalse();
    assertThat(GrpcStatus.isGrpc(request("content-type", "application/json"))).isFalse();
    assertThat(GrpcStatus.isGrpc(request())).isFalse();
  }

  @Test
  void httpAnswersMapToGrpcStatuses() {
    assertThat(GrpcStatus.fromHttp(401, true)).isEqualTo(GrpcStatus.UNAUTHENTICATED);
    assertThat(GrpcStatus.fromHttp(403, true)).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(GrpcStatus.fromHttp(404, false)).isEqualTo(GrpcStatus.UNIMPLEMENTED);
    assertThat(GrpcStatus.fromHttp(429, true)).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    // A limit's 503 is the client's doing; the gateway's own is the node's.
    assertThat(GrpcStatus.fromHttp(503, true)).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    assertThat(GrpcStatus.fromHttp(503, false)).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(GrpcStatus.fromHttp(502, false)).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(GrpcStatus.fromHttp(504, false)).isEqualTo(GrpcStatus.UNAVAILABLE);
    assertThat(GrpcStatus.fromHttp(418, true)).isEqualTo(GrpcStatus.UNKNOWN);
  }

  @Test
  void messagesArePercentEncoded() {
    assertThat(GrpcStatus.percentEncode("401 Unauthorized")).isEqualTo("401 Unauthorized");
    assertThat(GrpcStatus.percentEncode("100% sûr\n")).isEqualTo("100%25 s%C3%BBr%0A");
  }

  @Test
  void grpcTimeoutIsADeadlineFromTheStart() {
    long start = 1_000;
    assertThat(GrpcStatus.deadline(request("grpc-timeout", "300m"), start))
        .isEqualTo(start + TimeUnit.MILLISECONDS.toNanos(300));
    assertThat(GrpcStatus.deadline(request("grpc-timeout", "2S"), start))
        .isEqualTo(start + TimeUnit.SECONDS.toNanos(2));
    assertThat(GrpcStatus.deadline(request("grpc-timeout", "5n"), start)).isEqualTo(start + 5);
    // Bounded, never overflowing.
    assertThat(GrpcStatus.deadline(request("grpc-timeout", "99999999H"), start))
        .isEqualTo(start + (1L << 62));
    // Malformed: none (the client keeps its own).
    for (var bad : new String[] {"", "m", "123456789m", "1x", "-1m", "1.5S"}) {
      assertThat(GrpcStatus.deadline(request("grpc-timeout", bad), start)).as(bad).isZero();
    }
    assertThat(GrpcStatus.deadline(request(), start)).isZero();
  }
}
