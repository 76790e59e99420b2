package io.archway.dataplane.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminOptionsTest {

  @TempDir Path dir;

  @Test
  void onByDefaultOnLoopbackPort9180() throws Exception {
    var admin = DataplaneCommand.parse().admin();
    assertThat(admin.enabled()).isTrue();
    assertThat(admin.address()).isEqualTo("127.0.0.1");
    assertThat(admin.port()).isEqualTo(9180);
    assertThat(admin.persist()).isFalse();
    assertThat(admin.dataPort()).isFalse();
    assertThat(admin.applyTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(DataplaneCommand.parse("--admin-port", "off").admin().enabled()).isFalse();
  }

  @Test
  void theCommandLineSetsEverything() throws Exception {
    var admin =
        DataplaneCommand.parse(
                "--admin-port",
                "9200",
                "--admin-address",
                "0.0.0.0",
                "--admin-key",
                "k",
                "--viewer-key",
                "v",
                "--admin-allow",
                "10.0.0.0/8, 127.0.0.1",
                "--admin-persist",
                "--admin-on-http-port",
                "--admin-apply-timeout",
                "0.25",
                "--admin-allow-origin",
                "https://studio.example.com",
                "--admin-allow-origin",
                "http://localhost:5173",
                "--admin-allow-host",
                "admin.example.com")
            .admin();
    assertThat(admin.allowOrigins())
        .isEqualTo(List.of("https://studio.example.com", "http://localhost:5173"));
    assertThat(admin.allowHosts()).isEqualTo(List.of("admin.example.com"));
    assertThat(admin.applyTimeout()).isEqualTo(java.time.Duration.ofMillis(250));
    assertThat(admin.dataPort()).isTrue();
    assertThat(admin.port()).isEqualTo(9200);
    assertThat(admin.address()).isEqualTo("0.0.0.0");
    assertThat(admin.adminKey()).isEqualTo("k");
    assertThat(admin.viewerKey()).isEqualTo("v");
    assertThat(admin.allow()).isEqualTo(List.of("10.0.0.0/8", "127.0.0.1"));
    assertThat(admin.persist()).isTrue();
  }

  @Test
  void theConfigFileToo_andTheCommandLineWins() throws Exception {
    var file = dir.resolve("dp.yaml");
    Files.writeString(
        file,
        "admin:\n  port: 9300\n  key: fromfile\n  viewer_key: v\n  allow: [10.0.0.0/8]\n"
            + "  persist: true\n  apply_timeout: 2\n  allow_hosts: [gw.internal]\n");
    var admin = DataplaneCommand.parse("--config", file.toString(), "--admin-key", "cli").admin();
    assertThat(admin.port()).isEqualTo(9300);
    assertThat(admin.adminKey()).isEqualTo("cli");
    assertThat(admin.viewerKey()).isEqualTo("v");
    assertThat(admin.allow()).isEqualTo(List.of("10.0.0.0/8"));
    assertThat(admin.persist()).isTrue();
    assertThat(admin.applyTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
    assertThat(admin.allowHosts()).isEqualTo(List.of("gw.internal"));
    Files.writeString(file, "admin:\n  port: off\n");
    assertThat(DataplaneCommand.parse("--config", file.toString()).admin().enabled()).isFalse();
  }

  @Test
  void errorsNameTheOption() throws Exception {
    assertThatThrownBy(() -> DataplaneCommand.parse("--admin-allow", "10.0.0.0/8,nope"))
        .hasMessage("--admin-allow: \"nope\" (expected: an address or CIDR, e.g. 10.0.0.0/8)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--admin-port", "x"))
        .hasMessageContaining("--admin-port: \"x\"");
    assertThatThrownBy(() -> DataplaneCommand.parse("--admin-port", "9080"))
        .hasMessageContaining("--admin-port 9080 is also another listener's port");
    assertThatThrownBy(() -> DataplaneCommand.parse("--admin-apply-timeout", "soon"))
        .hasMessageContaining("--admin-apply-timeout: \"soon\" (expected: seconds");
    var file = dir.resolve("dp.yaml");
    Files.writeString(file, "admin:\n  keys: x\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining(file + ": admin.keys: unknown setting (expected one of: address,");
  }
}
