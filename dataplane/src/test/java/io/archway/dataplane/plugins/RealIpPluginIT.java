package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** real-ip through the real proxy: what later plugins and the upstream see as the client. */
class RealIpPluginIT {

  @TempDir Path dir;
  TestUpstream up;
  Gateways gw;

  @BeforeEach
  void upstream() throws Exception {
    up = new TestUpstream("up");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    up.close();
  }

  /** A route that tells the upstream its client's address and port as Archway sees them. */
  String route(String id, String uri, String plugins) {
    return """
          - id: %s
            uri: "%s"
            upstream:
              nodes:
                "%s": 1
            plugins:
              proxy-rewrite:
                headers:
                  set: {x-client: "$remote_addr", x-client-port: "$remote_port"}
        %s
        """
        .formatted(id, uri, up.node(), plugins.indent(6).stripTrailing());
  }

  @Test
  void aHeaderGivesTheAddressThatIpRestrictionAndTheUpstreamSee() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/*",
                    """
                    real-ip: {source: http_x_real_ip}
                    ip-restriction: {whitelist: [10.1.2.3]}"""));
    assertThat(gw.get("/a", "X-Real-IP", "10.1.2.3").statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders()).containsEntry("x-client", "10.1.2.3");
    assertThat(up.lastHeaders().get("x-forwarded-for")).endsWith("10.1.2.3");
    assertThat(gw.get("/a", "X-Real-IP", "10.9.9.9").statusCode()).isEqualTo(403);
    assertThat(gw.get("/a").statusCode()).isEqualTo(403);
    // Not an address: the connection's address stays.
    assertThat(gw.get("/a", "X-Real-IP", "one.example").statusCode()).isEqualTo(403);
  }

  @Test
  void anArgumentMayCarryAPort() throws Exception {
    gw = Gateways.start(dir, "routes:\n" + route("r1", "/*", "real-ip: {source: arg_client}"));
    assertThat(gw.get("/a?client=10.1.2.3:8080").statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders())
        .containsEntry("x-client", "10.1.2.3")
        .containsEntry("x-client-port", "8080");
    assertThat(gw.get("/a?client=%5B2001:db8::1%5D:9090").statusCode()).isEqualTo(200);
    assertThat(up.lastHeaders())
        .containsEntry("x-client", "2001:db8:0:0:0:0:0:1")
        .containsEntry("x-client-port", "9090");
  }

  @Test
  void onlyTrustedProxiesAreBelieved() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "trusted",
                    "/trusted",
                    "real-ip: {source: http_x_real_ip, trusted_addresses: [127.0.0.0/8, \"::1\"]}")
                + route(
                    "untrusted",
                    "/untrusted",
                    "real-ip: {source: http_x_real_ip, trusted_addresses: [10.0.0.0/8]}"));
    gw.get("/trusted", "X-Real-IP", "10.1.2.3");
    assertThat(up.lastHeaders()).containsEntry("x-client", "10.1.2.3");
    gw.get("/untrusted", "X-Real-IP", "10.1.2.3");
    assertThat(up.lastHeaders().get("x-client")).isIn("127.0.0.1", "0:0:0:0:0:0:0:1");
  }

  @Test
  void xForwardedForGivesTheLastAddressOrRecursivelyTheLastUntrustedOne() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("last", "/last", "real-ip: {source: http_x_forwarded_for}")
                + route(
                    "recursive",
                    "/recursive",
                    """
                    real-ip:
                      source: http_x_forwarded_for
                      trusted_addresses: [127.0.0.0/8, "::1", 192.168.0.0/16]
                      recursive: true"""));
    var xff = "203.0.113.9, 10.1.2.3, 192.168.1.1, 192.168.1.2";
    gw.get("/last", "X-Forwarded-For", xff);
    assertThat(up.lastHeaders()).containsEntry("x-client", "192.168.1.2");
    gw.get("/recursive", "X-Forwarded-For", xff);
    assertThat(up.lastHeaders()).containsEntry("x-client", "10.1.2.3");
    // Every address trusted: the leftmost.
    gw.get("/recursive", "X-Forwarded-For", "192.168.1.1, 192.168.1.2");
    assertThat(up.lastHeaders()).containsEntry("x-client", "192.168.1.1");
  }

  @Test
  void theLimitersCountByTheRealAddress() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route(
                    "r1",
                    "/*",
                    """
                    real-ip: {source: http_x_real_ip}
                    limit-count: {count: 1, time_window: 60, rejected_code: 429}"""));
    assertThat(gw.get("/a", "X-Real-IP", "10.0.0.1").statusCode()).isEqualTo(200);
    assertThat(gw.get("/a", "X-Real-IP", "10.0.0.1").statusCode()).isEqualTo(429);
    assertThat(gw.get("/a", "X-Real-IP", "10.0.0.2").statusCode()).isEqualTo(200);
  }

  @Test
  void aConfigurationWithoutSourceIsRefused() throws Exception {
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("ok", "/ok", "real-ip: {source: http_x_real_ip}")
                + route("bad", "/bad", "real-ip: {recursive: true}"));
    assertThat(gw.get("/ok").statusCode()).isEqualTo(200);
    assertThat(gw.get("/bad").statusCode()).isEqualTo(404);
    assertThat(gw.status("/metrics"))
        .contains("archway_config_objects_rejected{kind=\"routes\"} 1");
  }
}
