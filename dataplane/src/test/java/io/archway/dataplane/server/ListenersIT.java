package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.config.CompiledListeners;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.TlsClient;
import io.archway.dataplane.testing.UdpServer;
import io.archway.model.testing.Ports;
import io.netty.pkitesting.X509Bundle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ports opened from {@code listeners} objects in standalone YAML (no Kubernetes), against real
 * sockets: HTTP and HTTPS through the HTTP pipeline with {@code server_port} the declared port, TLS
 * passthrough by SNI to real TLS servers, TCP and UDP stream routes, merging, conflicts, a port in
 * use, and the privileged-port mapping. The leak detector runs as in every test.
 */
class ListenersIT {

  @TempDir Path dir;
  static X509Bundle ca;
  static X509Bundle certA;
  static X509Bundle certB;
  static X509Bundle certC;
  final List<AutoCloseable> closing = new ArrayList<>();
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  Gateways gw;
  TestUpstream web;

  @BeforeAll
  static void certificates() throws Exception {
    ca = Pki.authority("listeners-ca");
    certA = Pki.server(ca, false, "a.example.com");
    certB = Pki.server(ca, false, "b.example.com");
    certC = Pki.server(ca, false, "c.example.com");
  }

  @AfterEach
  void stop() throws Exception {
    if (gw != null) {
      gw.close();
    }
    if (web != null) {
      web.close();
    }
    for (var c : closing) {
      c.close();
    }
  }

  private Gateways start(String yaml) throws Exception {
    web = new TestUpstream("web");
    gw = Gateways.start(dir, yaml);
    return gw;
  }

  /** A route served only on connections whose server_port is {@code port}. */
  private String route(String id, int port) {
    return """
          - id: %s
            uri: /*
            vars: [["server_port", "==", %d]]
            upstream: {nodes: {"%s": 1}}
        """
        .formatted(id, port, web.node());
  }

  private int get(int port, String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private static boolean open(int port) {
    try (var s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void aListenerAddedByAChangeOpensItsPortAndItsRoutesServeThereThenItClosesWhenRemoved()
      throws Exception {
    int port = Ports.free();
    start("routes:\n  - {id: other, uri: /other, upstream: {nodes: {\"127.0.0.1:1\": 1}}}");
    assertThat(open(port)).isFalse();
    gw.reload(
        """
        listeners:
          - {id: default_gw_http, port: %d, protocol: HTTP, hostname: "*.example.com"}
        routes:
        %s"""
            .formatted(port, route("on-listener", port)));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port));
    assertThat(get(port, "/x")).isEqualTo(200);
    assertThat(web.lastHeaders()).containsEntry("x-forwarded-port", String.valueOf(port));
    // The route is bound to the listener's port: not served on the main port.
    assertThat(get(gw.port(), "/x")).isEqualTo(404);
    assertThat(gw.status("/metrics"))
        .contains("archway_config_items{kind=\"listeners\"} 1")
        .contains(
            "archway_listener_ports{port=\""
                + port
                + "\",server_port=\""
                + port
                + "\",transport=\"tcp\"} 1");

    gw.reload("routes:\n" + route("on-listener", port));
    await().atMost(Duration.ofSeconds(10)).until(() -> !open(port));
    assertThat(gw.dataplane().servers().listeners().ports()).isEmpty();
  }

  @Test
  void httpsListenersOnOnePortAreMergedAndServeTheirSslObjectsBySniTheFirstOneByDefault()
      throws Exception {
    int port = Ports.free();
    int tcp = Ports.free();
    var yaml =
        """
        ssls:
        %s%s%s
        listeners:
          - {id: gw_https_1, port: %d, protocol: HTTPS, ssl_ids: [b]}
          - {id: gw_https_2, port: %d, protocol: HTTPS, ssl_ids: [a]}
        %s
        routes:
        %s""";
    start("routes: []");
    gw.reload(
        yaml.formatted(
            Pki.ssl("a", certA, List.of("a.example.com"), null),
            Pki.ssl("b", certB, List.of("b.example.com"), null),
            Pki.ssl("c", certC, List.of("c.example.com"), null),
            port,
            port,
            "",
            route("tls-route", port)));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port));
    var tls = new TlsClient(Pki.trustingContext());
    var a = tls.get(port, "a.example.com", "/x");
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.subject()).contains("a.example.com");
    assertThat(tls.get(port, "b.example.com", "/x").subject()).contains("b.example.com");
    // c is an ssl object, but not this listener's: the first of its ssl_ids answers.
    assertThat(tls.get(port, "c.example.com", "/x").subject()).contains("b.example.com");
    assertThat(tls.get(port, null, "/x").subject()).contains("b.example.com");

    // A TCP listener on the same port is refused; the HTTPS one keeps serving, the other ports
    // too.
    gw.reload(
        yaml.formatted(
            Pki.ssl("a", certA, List.of("a.example.com"), null),
            Pki.ssl("b", certB, List.of("b.example.com"), null),
            Pki.ssl("c", certC, List.of("c.example.com"), null),
            port,
            port,
            "  - {id: x_tcp, port: %d, protocol: TCP}\n  - {id: y_tcp, port: %d, protocol: TCP}"
                .formatted(port, tcp),
            route("tls-route", port)));
    assertThat(gw.status("/metrics"))
        .contains("archway_config_objects_rejected{kind=\"listeners\"} 1");
    assertThat(gw.dataplane().servers().compiler().lastRejections())
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("listeners/x_tcp: not served: port " + port + ": TCP conflicts")
                    .contains("HTTPS"));
    assertThat(tls.get(port, "a.example.com", "/x").status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> open(tcp));

    // ssl_ids changed: new connections get the new set, the port is not bound again (a
    // connection made before the change is still served, which a closed port would drain).
    var early = new Socket("127.0.0.1", port);
    closing.add(early);
    gw.reload(
        yaml.formatted(
            Pki.ssl("a", certA, List.of("a.example.com"), null),
            Pki.ssl("b", certB, List.of("b.example.com"), null),
            Pki.ssl("c", certC, List.of("c.example.com"), null),
            port,
            port,
            "  - {id: gw_https_3, port: %d, protocol: HTTPS, ssl_ids: [c]}".formatted(port),
            route("tls-route", port)));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(tls.get(port, "c.example.com", "/x").subject()).contains("c.example"));
    assertThat(gw.dataplane().servers().listeners().ports())
        .containsEntry(CompiledListeners.Socket.tcp(port), port);
    var sslSocket =
        (SSLSocket)
            Pki.trustingContext()
                .getSocketFactory()
                .createSocket(early, "a.example.com", port, true);
    closing.add(sslSocket);
    sslSocket.setSoTimeout(10_000);
    sslSocket.startHandshake();
    sslSocket
        .getOutputStream()
        .write("GET /x HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    var status =
        new BufferedReader(
                new InputStreamReader(sslSocket.getInputStream(), StandardCharsets.US_ASCII))
            .readLine();
    assertThat(status).isEqualTo("HTTP/1.1 200 OK");
  }

  @Test
  void listenersOverTheAdminApiCheckedByTheModelAndRefusedOnTheAdminPort() throws Exception {
    var key = "edd1c9f034335f136f87ad84b625c8f1";
    web = new TestUpstream("web");
    gw =
        Gateways.start(
            dir,
            "routes: []",
            o ->
                o.withAdmin(
                    io.archway.dataplane.admin.AdminSettings.onLoopback(
                        key, "viewer-key-0123456789", true)));
    int port = Ports.free();
    int adminPort = gw.dataplane().servers().adminPort();
    var base = "http://127.0.0.1:" + adminPort + "/apisix/admin/";
    var put =
        (java.util.function.BiFunction<String, String, HttpResponse<String>>)
            (path, body) -> {
              try {
                return client.send(
                    HttpRequest.newBuilder(URI.create(base + path))
                        .header("X-API-KEY", key)
                        .PUT(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            };
    var bad = put.apply("listeners/l1", "{\"port\": 80, \"protocol\": \"HTTPS\"}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("ssl_ids: missing");
    assertThat(
            put.apply("listeners/l1", "{\"port\": %d, \"protocol\": \"HTTP\"}".formatted(port))
                .statusCode())
        .isIn(200, 201);
    var route =
        "{\"uri\": \"/*\", \"vars\": [[\"server_port\", \"==\", %d]], \"upstream\": {\"nodes\":"
                .formatted(port)
            + " {\"%s\": 1}}}".formatted(web.node());
    assertThat(put.apply("routes/r1", route).statusCode()).isIn(200, 201);
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port) && get(port, "/x") == 200);
    assertThat(
            put.apply("listeners/l2", "{\"port\": %d, \"protocol\": \"HTTP\"}".formatted(adminPort))
                .statusCode())
        .isIn(200, 201);
    assertThat(gw.dataplane().servers().compiler().lastRejections())
        .containsExactly(
            "listeners/l2: not served: port "
                + adminPort
                + " is the dataplane's admin port (from its options; expected: another port, or"
                + " protocol admin)");
  }

  @Test
  void aListenerOnAnOptionsPortIsServedThereWithItsProtocolAndRefusedWithAnother()
      throws Exception {
    start("routes: []");
    int main = gw.port();
    gw.reload(
        """
        listeners:
          - {id: same, port: %d, protocol: HTTP}
          - {id: other, port: %d, protocol: TCP}
        routes:
        %s"""
            .formatted(main, gw.dataplane().servers().statusPort(), route("main", main)));
    assertThat(get(main, "/x")).isEqualTo(200);
    assertThat(gw.dataplane().servers().listeners().ports()).isEmpty();
    assertThat(gw.dataplane().servers().compiler().lastRejections())
        .containsExactly(
            "listeners/other: not served: port "
                + gw.dataplane().servers().statusPort()
                + " is the dataplane's status port (from its options; expected: another port, or"
                + " protocol status)");
  }

  @Test
  void aPortInUseIsReportedAndBoundOnTheNextChangeOnceFree() throws Exception {
    var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    int port = taken.getLocalPort();
    start("routes: []");
    gw.reload(
        "listeners:\n  - {id: busy, port: %d, protocol: HTTP}\nroutes:\n%s"
            .formatted(port, route("busy", port)));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .contains(
                        "archway_listener_bind_failed{port=\"" + port + "\",transport=\"tcp\"} 1"));
    taken.close();
    gw.reload(
        "listeners:\n  - {id: busy, port: %d, protocol: HTTP, desc: again}\nroutes:\n%s"
            .formatted(port, route("busy", port)));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port) && get(port, "/x") == 200);
    assertThat(gw.dataplane().servers().listeners().failed()).isEmpty();
  }

  @Test
  void aPrivilegedPortIsBoundTenThousandHigherAndServerPortStaysTheDeclaredOne() throws Exception {
    int declared = -1;
    for (int p = 1023; p > 900; p--) {
      try (var s = new ServerSocket(p + 10000, 1, InetAddress.getLoopbackAddress())) {
        declared = p;
        break;
      } catch (IOException busy) {
        // try the next one
      }
    }
    assertThat(declared).isPositive();
    int port = declared;
    start("routes: []");
    gw.reload(
        "listeners:\n  - {id: low, port: %d, protocol: HTTP}\nroutes:\n%s"
            .formatted(port, route("low", port)));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port + 10000));
    assertThat(get(port + 10000, "/x")).isEqualTo(200);
    assertThat(web.lastHeaders()).containsEntry("x-forwarded-port", String.valueOf(port));
    assertThat(gw.dataplane().servers().listeners().ports())
        .containsEntry(CompiledListeners.Socket.tcp(port + 10000), port);
  }

  @Test
  void tlsPassthroughPicksTheStreamRouteBySniAndRelaysTheUpstreamsOwnTls() throws Exception {
    var a = new TlsServer("a", certA);
    var b = new TlsServer("b", certB);
    closing.add(a);
    closing.add(b);
    int port = Ports.free();
    start("routes: []");
    gw.reload(
        """
        listeners:
          - {id: passthrough, port: %d, protocol: TLS}
        stream_routes:
          - {id: a, server_port: %d, sni: a.example.com, upstream: {nodes: {"127.0.0.1:%d": 1}}}
          - {id: b, server_port: %d, sni: "*.b.example.com", upstream: {nodes: {"127.0.0.1:%d": 1}}}
        """
            .formatted(port, port, a.port(), port, b.port()));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port));
    assertThat(passthrough(port, "a.example.com")).isEqualTo("a CN=a.example.com");
    assertThat(passthrough(port, "x.b.example.com")).isEqualTo("b CN=b.example.com");
    // A wildcard covers one or more labels (Gateway API hostnames, route hosts).
    assertThat(passthrough(port, "x.y.b.example.com")).isEqualTo("b CN=b.example.com");
    // No route for the name: closed before any TLS answer.
    assertThatThrownBy(() -> passthrough(port, "nowhere.example.com"))
        .isInstanceOf(IOException.class);
  }

  /** What the upstream says over TLS made through the listener, and its certificate's subject. */
  private static String passthrough(int port, String sni) throws Exception {
    var ctx = Pki.trustingContext();
    try (var s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      var params = s.getSSLParameters();
      params.setServerNames(List.of(new SNIHostName(sni)));
      s.setSSLParameters(params);
      s.startHandshake();
      var subject =
          ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0])
              .getSubjectX500Principal()
              .getName();
      var line =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      return line + " " + subject;
    }
  }

  @Test
  void tcpAndUdpListenersServeTheirStreamRoutesByServerPort() throws Exception {
    var tcpEcho = new TcpEcho();
    var udpEcho = new UdpServer(false);
    closing.add(tcpEcho);
    closing.add(udpEcho);
    int tcp = Ports.free();
    int udp = Ports.free();
    start("routes: []");
    gw.reload(
        """
        listeners:
          - {id: tcp, port: %d, protocol: TCP}
          - {id: udp, port: %d, protocol: UDP}
        stream_routes:
          - {id: t, server_port: %d, upstream: {nodes: {"127.0.0.1:%d": 1}}}
          - {id: u, server_port: %d, upstream: {nodes: {"127.0.0.1:%d": 1}}}
        """
            .formatted(tcp, udp, tcp, tcpEcho.port(), udp, udpEcho.port()));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(tcp));
    try (var s = new Socket("127.0.0.1", tcp)) {
      s.setSoTimeout(10_000);
      var in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      s.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("hello");

      // Removed: the port stops accepting at once; the open connection drains, then is closed
      // after the drain timeout (2 s here).
      gw.reload(
          "routes: []\nstream_routes:\n  - {id: t, server_port: %d, upstream: {nodes: {\"127.0.0.1:%d\": 1}}}"
              .formatted(tcp, tcpEcho.port()));
      await().atMost(Duration.ofSeconds(10)).until(() -> !open(tcp));
      s.getOutputStream().write("still\n".getBytes(StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("still");
      assertThat(in.readLine()).isNull();
    }
    gw.reload(
        """
        listeners:
          - {id: udp, port: %d, protocol: UDP}
        stream_routes:
          - {id: u, server_port: %d, upstream: {nodes: {"127.0.0.1:%d": 1}}}
        """
            .formatted(udp, udp, udpEcho.port()));
    assertThat(udpEchoes(udp, "ping")).isEqualTo("ping");
  }

  @Test
  void tcpAndUdpOnOnePortNumberAreTwoSocketsEachWithItsTransportsRoutes() throws Exception {
    var tcpEcho = new TcpEcho();
    var udpEcho = new UdpServer(false);
    closing.add(tcpEcho);
    closing.add(udpEcho);
    int port = Ports.free();
    int http = Ports.free();
    start("routes: []");
    // As the operator writes a TCPRoute and a UDPRoute on listeners sharing a port number: the
    // upstream scheme tells the routes apart (the same server_port); and UDP next to HTTP.
    gw.reload(
        """
        listeners:
          - {id: tcp, port: %d, protocol: TCP}
          - {id: udp, port: %d, protocol: UDP}
          - {id: web, port: %d, protocol: HTTP}
          - {id: web-udp, port: %d, protocol: UDP}
        stream_routes:
          - {id: t, server_port: %d, upstream: {scheme: tcp, nodes: {"127.0.0.1:%d": 1}}}
          - {id: u, server_port: %d, upstream: {scheme: udp, nodes: {"127.0.0.1:%d": 1}}}
          - {id: w, server_port: %d, upstream: {scheme: udp, nodes: {"127.0.0.1:%d": 1}}}
        routes:
        %s"""
            .formatted(
                port,
                port,
                http,
                http,
                port,
                tcpEcho.port(),
                port,
                udpEcho.port(),
                http,
                udpEcho.port(),
                route("web", http)));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port) && open(http));
    assertThat(gw.dataplane().servers().compiler().lastRejections()).isEmpty();
    assertThat(gw.dataplane().servers().listeners().ports())
        .containsEntry(CompiledListeners.Socket.tcp(port), port)
        .containsEntry(CompiledListeners.Socket.udp(port), port)
        .containsEntry(CompiledListeners.Socket.tcp(http), http)
        .containsEntry(CompiledListeners.Socket.udp(http), http);
    assertThat(gw.status("/metrics"))
        .contains(
            "archway_listener_ports{port=\"%d\",server_port=\"%d\",transport=\"udp\"} 1"
                .formatted(port, port));
    try (var s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      var in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      s.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
      assertThat(in.readLine()).isEqualTo("hello");
    }
    assertThat(udpEchoes(port, "ping")).isEqualTo("ping");
    assertThat(get(http, "/x")).isEqualTo(200);
    assertThat(udpEchoes(http, "pong")).isEqualTo("pong");

    // The UDP listener goes: the TCP one on the same number stays.
    gw.reload(
        """
        listeners:
          - {id: tcp, port: %d, protocol: TCP}
        stream_routes:
          - {id: t, server_port: %d, upstream: {scheme: tcp, nodes: {"127.0.0.1:%d": 1}}}
        """
            .formatted(port, port, tcpEcho.port()));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !gw.dataplane()
                    .servers()
                    .listeners()
                    .ports()
                    .containsKey(CompiledListeners.Socket.udp(port)));
    assertThat(open(port)).isTrue();
  }

  @Test
  void aWildcardHostOnAListenerCoversOneOrMoreLabelsNeverTheSuffixItself() throws Exception {
    int port = Ports.free();
    start("routes: []");
    // As the operator writes an HTTPRoute hostname "*.example.com" on the listener's port.
    gw.reload(
        """
        listeners:
          - {id: default_gw_http, port: %d, protocol: HTTP, hostname: "*.example.com"}
        routes:
          - id: wild
            uri: /*
            hosts: ["*.example.com"]
            vars: [["server_port", "==", %d]]
            upstream: {nodes: {"%s": 1}}
        """
            .formatted(port, port, web.node()));
    await().atMost(Duration.ofSeconds(10)).until(() -> open(port));
    assertThat(statusWithHost(port, "a.example.com")).isEqualTo(200);
    assertThat(statusWithHost(port, "a.b.example.com")).isEqualTo(200);
    assertThat(statusWithHost(port, "A.B.Example.com:" + port)).isEqualTo(200);
    assertThat(statusWithHost(port, "example.com")).isEqualTo(404);
    assertThat(statusWithHost(port, "a.example.org")).isEqualTo(404);
  }

  /** The status of {@code GET /x} with this {@code Host} header, over HTTP/1.1. */
  private static int statusWithHost(int port, String host) throws Exception {
    try (var s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("GET /x HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      var line =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      return Integer.parseInt(line.split(" ")[1]);
    }
  }

  /** What a UDP port answers to {@code text} (sent again until an answer comes). */
  private static String udpEchoes(int port, String text) throws Exception {
    try (var u = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      u.setSoTimeout(500);
      var data = text.getBytes(StandardCharsets.UTF_8);
      var reply = new DatagramPacket(new byte[64], 64);
      return await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(
              () -> {
                u.send(
                    new DatagramPacket(
                        data, data.length, new InetSocketAddress("127.0.0.1", port)));
                u.receive(reply);
                return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
              },
              r -> r != null);
    }
  }

  /** A TLS server that says its name once the handshake is done, then closes. */
  static final class TlsServer implements AutoCloseable {
    private final SSLServerSocket server;

    TlsServer(String name, X509Bundle cert) throws Exception {
      var pw = "pw".toCharArray();
      var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(cert.toKeyStore(pw), pw);
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      server =
          (SSLServerSocket)
              ctx.getServerSocketFactory()
                  .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread.ofVirtual()
          .start(
              () -> {
                while (!server.isClosed()) {
                  try (var s = server.accept()) {
                    OutputStream out = s.getOutputStream();
                    out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                  } catch (IOException e) {
                    // the next one, or closed
                  }
                }
              });
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /** Echoes each connection's bytes. */
  static final class TcpEcho implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

    TcpEcho() throws IOException {
      Thread.ofVirtual()
          .start(
              () -> {
                while (!server.isClosed()) {
                  try {
                    var s = server.accept();
                    Thread.ofVirtual()
                        .start(
                            () -> {
                              try (s) {
                                s.getInputStream().transferTo(s.getOutputStream());
                              } catch (IOException e) {
                                // closed
                              }
                            });
                  } catch (IOException e) {
                    // closed
                  }
                }
              });
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
