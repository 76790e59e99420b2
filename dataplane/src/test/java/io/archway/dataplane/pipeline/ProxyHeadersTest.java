package io.archway.dataplane.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.junit.jupiter.api.Test;

/** Hop-by-hop fields: Connection and what it names go, the end-to-end fields stay. */
class ProxyHeadersTest {

  @Test
  void connectionNamingNoFieldGoesAlone() {
    var h = new DefaultHttpHeaders().add("Connection", "keep-alive").add("Content-Length", "2");
    ProxyHeaders.removeHopByHop(h);
    assertThat(h.names()).containsExactly("Content-Length");
  }

  @Test
  void theFieldsConnectionNamesGoInEveryValue() {
    var h =
        new DefaultHttpHeaders()
            .add("Connection", "close")
            .add("Connection", "X-A, keep-alive ,x-b")
            .add("X-A", "1")
            .add("X-B", "2")
            .add("X-C", "3")
            .add("Keep-Alive", "timeout=5")
            .add("Upgrade", "websocket")
            .add("Transfer-Encoding", "chunked");
    ProxyHeaders.removeHopByHop(h);
    assertThat(h.names()).containsExactlyInAnyOrder("X-C", "Transfer-Encoding");
  }

  @Test
  void theFramingFieldsStayWhenConnectionNamesThem() {
    var h =
        new DefaultHttpHeaders()
            .add("Connection", "content-length, Transfer-Encoding, x-a")
            .add("Content-Length", "5")
            .add("Transfer-Encoding", "chunked")
            .add("X-A", "1");
    ProxyHeaders.removeHopByHop(h);
    assertThat(h.names()).containsExactlyInAnyOrder("Content-Length", "Transfer-Encoding");
  }
}
