package io.archway.dataplane.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.netty.pkitesting.X509Bundle;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scheme: https} upstreams against a real HTTPS server (the JDK's): verification off, on
 * against the JVM's authorities, on against {@code tls.ca}; the server name checked; client
 * certificates inline and from an {@code ssls} object of type client.
 */
class UpstreamTlsIT {

  static X509Bundle serverCa;
  static X509Bundle clientCa;
  static X509Bundle client;
  static HttpsServer open;
  static HttpsServer mutual;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void servers() throws Exception {
    serverCa = Pki.authority("Upstream CA");
    clientCa = Pki.authority("Gateway Client CA");
    client = Pki.client(clientCa, "archway");
    var cert = Pki.server(serverCa, false, "up.test");
    open = server(cert, null);
    mutual = server(cert, clientCa);
  }

  /** An HTTPS server answering 200 with the client certificate's subject, or "anonymous". */
  static HttpsServer server(X509Bundle cert, X509Bundle requireClientsOf) throws Exception {
    var ctx = SSLContext.getInstance("TLS");
    ctx.init(
        cert.toKeyManagerFactory().getKeyManagers(),
        requireClientsOf == null
            ? null
            : requireClientsOf.toTrustManagerFactory().getTrustManagers(),
        null);
    var server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(
        new HttpsConfigurator(ctx) {
          @Override
          public void configure(HttpsParameters params) {
            var p = ctx.getDefaultSSLParameters();
            p.setNeedClientAuth(requireClientsOf != null);
            params.setSSLParameters(p);
          }
        });
    server.createContext(
        "/",
        exchange -> {
          String who = "anonymous";
          try {
            var peers = ((HttpsExchange) exchange).getSSLSession().getPeerCertificates();
            who = ((X509Certificate) peers[0]).getSubjectX500Principal().getName();
          } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            // no client certificate
          }
          var body = who.getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  @AfterAll
  static void stopServers() {
    open.stop(0);
    mutual.stop(0);
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  static String route(String id, HttpsServer server, String tls) {
    return """
          - id: %s
            uri: /%s
            upstream:
              scheme: https
              pass_host: rewrite
              upstream_host: up.test
              nodes: {"127.0.0.1:%d": 1}
              tls: %s
        """
        .formatted(id, id, server.getAddress().getPort(), tls);
  }

  @Test
  void verificationOffOnAndAgainstTheUpstreamsAuthority() throws Exception {
    var ca = Pki.yaml(serverCa.getCertificatePEM());
    var otherCa = Pki.yaml(Pki.authority("Other CA").getCertificatePEM());
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("trusting", open, "{verify: false}")
                + route("jvm", open, "{verify: true}")
                + route("ca", open, "{verify: true, ca: " + ca + "}")
                + route("wrong", open, "{verify: true, ca: " + otherCa + "}"));
    var off = gw.get("/trusting");
    assertThat(off.statusCode()).isEqualTo(200);
    assertThat(off.body()).isEqualTo("anonymous");
    assertThat(gw.get("/jvm").statusCode()).isEqualTo(502); // the JVM does not know the test CA
    assertThat(gw.get("/ca").statusCode()).isEqualTo(200);
    assertThat(gw.get("/wrong").statusCode()).isEqualTo(502);
  }

  @Test
  void clientCertificatesInlineOrFromAnSslsObject() throws Exception {
    var cert = Pki.yaml(Pki.chainPem(client));
    var key = Pki.yaml(Pki.keyPem(client));
    gw =
        Gateways.start(
            dir,
            "routes:\n"
                + route("none", mutual, "{verify: false}")
                + route(
                    "inline",
                    mutual,
                    "{verify: false, client_cert: " + cert + ", client_key: " + key + "}")
                + route("byid", mutual, "{verify: false, client_cert_id: gateway-client}")
                + "ssls:\n"
                + "  - id: gateway-client\n    type: client\n    cert: "
                + cert
                + "\n    key: "
                + key
                + "\n");
    assertThat(gw.get("/none").statusCode()).isEqualTo(502);
    var inline = gw.get("/inline");
    assertThat(inline.statusCode()).isEqualTo(200);
    assertThat(inline.body()).isEqualTo("CN=archway");
    var byId = gw.get("/byid");
    assertThat(byId.statusCode()).isEqualTo(200);
    assertThat(byId.body()).isEqualTo("CN=archway");
  }
}
