package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The address forms real-ip reads from a header or an argument. */
class RealIpPluginTest {

  @ParameterizedTest
  @CsvSource({
    "10.1.2.3, 10.1.2.3, 0",
    "10.1.2.3:8080, 10.1.2.3, 8080",
    "2001:db8::1, 2001:db8:0:0:0:0:0:1, 0",
    "[2001:db8::1], 2001:db8:0:0:0:0:0:1, 0",
    "[2001:db8::1]:443, 2001:db8:0:0:0:0:0:1, 443",
    "::1, 0:0:0:0:0:0:0:1, 0"
  })
  void addressesWithOrWithoutAPort(String value, String address, int port) {
    var a = RealIpPlugin.parse(value);
    assertThat(a).isNotNull();
    assertThat(a.address().getHostAddress()).isEqualTo(address);
    assertThat(a.port()).isEqualTo(port);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "unknown",
        "one.example",
        "10.1.2.3:0",
        "10.1.2.3:65536",
        "10.1.2.3:http",
        "10.1.2",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "10.1.2.3, 10.1.2.4"
      })
  void anythingElseIsNoAddress(String value) {
    assertThat(RealIpPlugin.parse(value)).isNull();
  }
}
