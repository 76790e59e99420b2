package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AdminBrowserCheckTest {

  final AdminBrowserCheck check =
      new AdminBrowserCheck(AdminSettings.onLoopback(null, null, false));

  @Test
  void loopbackNamesAndAddressesAreFineOtherNamesAreNot() {
    for (var host :
        List.of("127.0.0.1:9180", "localhost:9180", "LOCALHOST", "[::1]:9180", "10.1.2.3", "::1")) {
      assertThat(check.refusal(host, null)).as(host).isNull();
    }
    for (var host : List.of("evil.example:9180", "evil.example", "127.0.0.1.nip.io", "[zz")) {
      assertThat(check.refusal(host, null)).as(host).startsWith("host not allowed");
    }
    // No Host, no Origin: an HTTP/1.0 script.
    assertThat(check.refusal(null, null)).isNull();
  }

  @Test
  void onlyTheListenersOwnOriginUnlessAllowed() {
    assertThat(check.refusal("127.0.0.1:9180", "http://127.0.0.1:9180")).isNull();
    assertThat(check.refusal("localhost:9180", "http://localhost:9180/")).isNull();
    assertThat(check.refusal("localhost", "http://localhost:80")).isNull();
    for (var origin :
        List.of("https://evil.example", "http://localhost:5173", "null", "http://127.0.0.1")) {
      assertThat(check.refusal("127.0.0.1:9180", origin))
          .as(origin)
          .startsWith("origin not allowed");
    }
    var allowing =
        new AdminBrowserCheck(
            AdminSettings.onLoopback(null, null, false)
                .withAllowOrigins(List.of("http://localhost:5173"))
                .withAllowHosts(List.of("admin.example.com")));
    assertThat(allowing.refusal("127.0.0.1:9180", "http://localhost:5173")).isNull();
    assertThat(allowing.refusal("admin.example.com:9180", "http://admin.example.com:9180"))
        .isNull();
    assertThat(allowing.refusal("127.0.0.1:9180", "https://evil.example")).isNotNull();
    var any =
        new AdminBrowserCheck(
            AdminSettings.onLoopback(null, null, false)
                .withAllowOrigins(List.of("*"))
                .withAllowHosts(List.of("*")));
    assertThat(any.refusal("evil.example", "https://evil.example")).isNull();
    // With a key, a rebinding page gets 401 anyway: any Host, unless names are configured.
    var keyed = new AdminBrowserCheck(AdminSettings.onLoopback("k", null, false));
    assertThat(keyed.refusal("gw.internal:9180", null)).isNull();
    assertThat(keyed.refusal("gw.internal:9180", "https://evil.example")).isNotNull();
    assertThat(
            new AdminBrowserCheck(
                    AdminSettings.onLoopback("k", null, false)
                        .withAllowHosts(List.of("admin.example.com")))
                .refusal("gw.internal", null))
        .startsWith("host not allowed");
  }
}
