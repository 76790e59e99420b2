package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

/** The HTTP/2 request head's checks and its conversion to the exchange's request. */
class H2RequestHeadTest {

  static Http2Headers head(String... nameValues) {
    var h = new DefaultHttp2Headers(false);
    h.method("POST").scheme("https").path("/a?b=1").authority("example.com");
    for (int i = 0; i < nameValues.length; i += 2) {
      h.add(nameValues[i], nameValues[i + 1]);
    }
    return h;
  }

  @Test
  void aRequestBecomesTheExchangesForm() throws Exception {
    var req = H2RequestHead.toRequest(head("cookie", "a=1", "cookie", "b=2", "x-y", "z"), false);
    assertThat(req.method()).isEqualTo(HttpMethod.POST);
    assertThat(req.uri()).isEqualTo("/a?b=1");
    assertThat(req.headers().get("host")).isEqualTo("example.com");
    assertThat(req.headers().get("cookie")).isEqualTo("a=1; b=2");
    assertThat(req.headers().get("x-y")).isEqualTo("z");
    // A body without a length goes to an HTTP/1.1 node chunked; one with a length keeps it.
    assertThat(req.headers().get("transfer-encoding")).isEqualTo("chunked");
    var sized = H2RequestHead.toRequest(head("content-length", "5"), false);
    assertThat(sized.headers().get("content-length")).isEqualTo("5");
    assertThat(sized.headers().contains("transfer-encoding")).isFalse();
    assertThat(H2RequestHead.declaredLength(sized)).isEqualTo(5);
    // No body: neither.
    var bodiless = H2RequestHead.toRequest(head(), true);
    assertThat(bodiless.headers().contains("transfer-encoding")).isFalse();
    assertThat(H2RequestHead.declaredLength(bodiless)).isEqualTo(-1);
    // te: trailers is accepted and not passed on.
    assertThat(H2RequestHead.toRequest(head("te", "trailers"), true).headers().contains("te"))
        .isFalse();
  }

  @Test
  void malformedHeads() {
    for (var h :
        new Http2Headers[] {
          head("connection", "close"),
          head("upgrade", "h2c"),
          head("transfer-encoding", "chunked"),
          head("te", "gzip"),
          head("X-Upper", "1"),
          head("x-bad", "a\nb"),
          head("x-bad", "a\rb"),
          head("x-bad", " lead"),
          head("x-bad", "trail\t"),
          head(":protocol", "websocket"),
          head("content-length", "-1"),
          head("content-length", "1", "content-length", "2"),
          new DefaultHttp2Headers(false).method("GET").path("/").authority("x"),
          new DefaultHttp2Headers(false).method("GET").scheme("http").path("").authority("x"),
          new DefaultHttp2Headers(false).method("get").scheme("http").path("/").authority("x"),
          new DefaultHttp2Headers(false).method("GET").scheme("http").path("/a b").authority("x"),
        }) {
      assertThatThrownBy(() -> H2RequestHead.toRequest(h, false))
          .as(h.toString())
          .isInstanceOf(H2RequestHead.Malformed.class);
    }
    // A length on a request that ends with its head must be 0.
    assertThatThrownBy(() -> H2RequestHead.toRequest(head("content-length", "3"), true))
        .isInstanceOf(H2RequestHead.Malformed.class);
  }

  @Test
  void refusedHeadsGetHttp11sStatus() {
    assertThat(status(head("host", "other.example"))).isEqualTo(400);
    assertThat(status(new DefaultHttp2Headers(false).method("GET").scheme("http").path("/")))
        .isEqualTo(400);
    assertThat(
            status(
                new DefaultHttp2Headers(false)
                    .method("GET")
                    .scheme("http")
                    .path("/")
                    .authority("a..b")))
        .isEqualTo(400);
    assertThat(
            status(
                new DefaultHttp2Headers(false)
                    .method("TRACE")
                    .scheme("http")
                    .path("/")
                    .authority("x")))
        .isEqualTo(405);
    assertThat(status(head("expect", "nothing"))).isEqualTo(417);
  }

  static int status(Http2Headers h) {
    try {
      H2RequestHead.toRequest(h, true);
      return 200;
    } catch (H2RequestHead.Refused e) {
      return e.status;
    } catch (H2RequestHead.Malformed e) {
      return -1;
    }
  }
}
