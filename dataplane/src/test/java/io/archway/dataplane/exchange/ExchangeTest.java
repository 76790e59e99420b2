package io.archway.dataplane.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class ExchangeTest {

  private final Exchange ex =
      new Exchange(
          null,
          new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"),
          System.nanoTime());

  @Test
  void typedAttributesAreApartFromNamedResults() {
    var creds = new UpstreamCredentials("alice", "s3cret");
    ex.attribute(UpstreamCredentials.KEY, creds);
    assertThat(ex.attribute(UpstreamCredentials.KEY)).isSameAs(creds);
    // Loggers and conditions read results by name: no name reaches the attribute.
    assertThat(ex.result("upstream-credentials")).isNull();
    assertThat(ex.result(UpstreamCredentials.KEY.toString())).isNull();
  }

  @Test
  void credentialsNeverPrintTheirPassword() {
    assertThat(new UpstreamCredentials("alice", "s3cret").toString())
        .contains("alice")
        .doesNotContain("s3cret");
  }

  @Test
  void aKeyIsItsOwnIdentity() {
    var other = new Exchange.Key<UpstreamCredentials>("upstream-credentials");
    ex.attribute(UpstreamCredentials.KEY, new UpstreamCredentials("a", "b"));
    assertThat(ex.attribute(other)).isNull();
  }
}
