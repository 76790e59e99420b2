package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdminAuthTest {

  private final AdminAuth auth =
      new AdminAuth(
          new AdminSettings(
              true, "127.0.0.1", 0, "adm", "view", List.of("10.0.0.0/8"), false, false));

  @Test
  void keysGiveRoles() {
    assertThat(auth.check("adm", true).role()).isEqualTo(AdminRequest.Role.ADMIN);
    assertThat(auth.check("view", false).role()).isEqualTo(AdminRequest.Role.VIEWER);
    assertThat(auth.check("view", true).status()).isEqualTo(403);
    assertThat(auth.check(null, false).status()).isEqualTo(401);
    assertThat(auth.check("", false).status()).isEqualTo(401);
    assertThat(auth.check("ad", false).status()).isEqualTo(401);
    assertThat(auth.check("adm ", false).status()).isEqualTo(401);
  }

  @Test
  void withoutKeysEveryoneIsAdmin() {
    var open = new AdminAuth(AdminSettings.onLoopback(null, "", false));
    assertThat(open.keyed()).isFalse();
    assertThat(open.check(null, true).role()).isEqualTo(AdminRequest.Role.ADMIN);
  }

  @Test
  void onlyAllowedAddresses() throws Exception {
    assertThat(auth.allows(InetAddress.getByName("10.1.2.3"))).isTrue();
    assertThat(auth.allows(InetAddress.getByName("127.0.0.1"))).isFalse();
    assertThat(new AdminAuth(AdminSettings.DEFAULTS).allows(InetAddress.getByName("127.0.0.1")))
        .isTrue();
  }
}
