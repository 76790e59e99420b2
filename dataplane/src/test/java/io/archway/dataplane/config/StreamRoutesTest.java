package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.StreamRoute;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamRoutesTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @Test
  void sniExactThenTheLongestWildcardOfAnyDepthThenTheRouteWithoutSni() {
    var routes =
        routes(
            r("exact", 9444, "api.example.com"),
            r("wild", 9444, "*.example.com"),
            r("wild-b", 9444, "*.b.example.com"),
            r("any", 9444, null),
            r("other-port", 9445, "*.example.com"));
    assertThat(sni(routes, "api.example.com")).isEqualTo("exact");
    assertThat(sni(routes, "API.Example.com.")).isEqualTo("exact");
    assertThat(sni(routes, "www.example.com")).isEqualTo("wild");
    // One or more labels, as route hosts and Gateway API hostnames: the longest suffix first.
    assertThat(sni(routes, "a.c.example.com")).isEqualTo("wild");
    assertThat(sni(routes, "a.b.example.com")).isEqualTo("wild-b");
    assertThat(sni(routes, "x.y.B.example.com")).isEqualTo("wild-b");
    assertThat(sni(routes, "b.example.com")).isEqualTo("wild");
    // Never the suffix itself, nor a name that only ends in the same characters.
    assertThat(sni(routes, "example.com")).isEqualTo("any");
    assertThat(sni(routes, "badexample.com")).isEqualTo("any");
    assertThat(sni(routes, null)).isEqualTo("any");
  }

  @Test
  void withoutARouteWithoutSniAnUncoveredNameHasNoRoute() {
    var routes = routes(r("wild", 9444, "*.example.com"));
    assertThat(sni(routes, "a.b.example.com")).isEqualTo("wild");
    assertThat(routes.matchSni(9444, "example.com", LOOPBACK, LOOPBACK, r -> null)).isNull();
    assertThat(routes.matchSni(9444, null, LOOPBACK, LOOPBACK, r -> null)).isNull();
  }

  @Test
  void coversNeedsALabelOfItsOwn() {
    assertThat(StreamRoutes.covers("*.example.com", "a.example.com")).isTrue();
    assertThat(StreamRoutes.covers("*.example.com", "a.b.example.com")).isTrue();
    assertThat(StreamRoutes.covers("*.example.com", "example.com")).isFalse();
    assertThat(StreamRoutes.covers("*.example.com", ".example.com")).isFalse();
    assertThat(StreamRoutes.covers("*.example.com", "aexample.com")).isFalse();
    assertThat(StreamRoutes.covers("a.example.com", "a.example.com")).isFalse();
  }

  @Test
  void tcpAndUdpOnOnePortNumberEachTakeTheRoutesOfTheirTransport() {
    // As a TCPRoute, a TLSRoute and a UDPRoute on listeners sharing port 5300 translate.
    var routes =
        routes(
            r("tcpr_a", 5300, null),
            r("tlsr_b", 5300, "db.example.com"),
            r("udpr_c", 5300, null),
            r("plain", 5301, null));
    assertThat(transport(routes, 5300, false)).isEqualTo("tcpr_a");
    assertThat(transport(routes, 5300, true)).isEqualTo("udpr_c");
    // A route without a scheme (as APISIX's are written) serves both.
    assertThat(transport(routes, 5301, false)).isEqualTo("plain");
    assertThat(transport(routes, 5301, true)).isEqualTo("plain");
    // UDP never takes a route by sni; TLS passthrough never a UDP one.
    var sniOnly = routes(r("tlsr_b", 5300, "db.example.com"), r("udpr_c", 5300, null));
    assertThat(transport(sniOnly, 5300, true)).isEqualTo("udpr_c");
    assertThat(
            sniOnly.matchSni(5300, "x.example.com", LOOPBACK, LOOPBACK, StreamRoutesTest::scheme))
        .isNull();
    assertThat(StreamRoutes.serves("tls", true)).isFalse();
    assertThat(StreamRoutes.serves("tls", false)).isTrue();
    assertThat(StreamRoutes.serves("udp", false)).isFalse();
    assertThat(StreamRoutes.serves(null, true)).isTrue();
  }

  /** The upstream scheme of the test routes: from the id's prefix, as the operator writes them. */
  private static String scheme(CompiledStream r) {
    return r.id().startsWith("udpr_")
        ? "udp"
        : r.id().startsWith("tcpr_") || r.id().startsWith("tlsr_") ? "tcp" : null;
  }

  private static String transport(StreamRoutes routes, int port, boolean udp) {
    var r = routes.match(port, LOOPBACK, LOOPBACK, udp, StreamRoutesTest::scheme);
    return r == null ? null : r.id();
  }

  private static String sni(StreamRoutes routes, String name) {
    var r = routes.matchSni(9444, name, LOOPBACK, LOOPBACK, StreamRoutesTest::scheme);
    return r == null ? null : r.id();
  }

  private static StreamRoutes routes(CompiledStream... routes) {
    return StreamRoutes.of(new ArrayList<>(List.of(routes)));
  }

  private static CompiledStream r(String id, int port, String sni) {
    var route =
        new StreamRoute(
            id, null, null, null, null, port, sni, null, null, null, null, null, null, null, null);
    return new CompiledStream(id, route, null, null, port, null, null, null, null, null);
  }
}
