package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DataPortSnifferTest {

  private static Boolean decide(String s) {
    var b = Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    try {
      return DataPortSniffer.decide(b);
    } finally {
      b.release();
    }
  }

  @Test
  void decidesOnTheMethodAndThePrefixOnly() {
    assertThat(decide("PUT /apisix/admin/routes/1 HTTP/1.1\r\n")).isTrue();
    assertThat(decide("GET /apisix/admin")).isTrue();
    assertThat(decide("GET /get HTTP/1.1\r\n")).isFalse();
    assertThat(decide("GET /apisix/adm1n")).isFalse();
    assertThat(decide("get /apisix/admin")).isFalse();
    assertThat(decide("\u0016\u0003\u0001")).isFalse(); // a TLS hello on the plain port
  }

  @Test
  void waitsForTheBytesThatDecide() {
    assertThat(decide("")).isNull();
    assertThat(decide("PU")).isNull();
    assertThat(decide("PUT /api")).isNull();
    assertThat(decide("PUT /apisix/admi")).isNull();
    assertThat(decide("ABCDEFGHIJKLMNOPQ")).isFalse(); // no method is that long
  }
}
