package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Nginx;
import io.archway.dataplane.testing.Pki;
import io.archway.model.testing.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http2: true} on an {@code http} or {@code https} upstream: plain HTTP traffic (not gRPC)
 * to the nodes over HTTP/2, h2c with prior knowledge or h2 by ALPN, checked against Debian's nginx
 * as the node, which answers with the protocol it was spoken to in. The clients speak HTTP/1.1 to
 * the gateway, so this is also the h1 → h2 translation.
 */
class Http2NodesIT {

  @TempDir Path dir;
  Nginx nginx;
  Gateways gw;
  int h2cPort;
  int h2Port;
  String ca;

  @BeforeEach
  void start() throws Exception {
    var binary = Nginx.binary();
    if (binary == null) {
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(
            "nginx not found on PATH or at /usr/sbin/nginx: .ci/run installs Debian's nginx");
      }
      Assumptions.abort("nginx not found on PATH or at /usr/sbin/nginx: test skipped");
    }
    var authority = Pki.authority("Node CA");
    var cert = Pki.serverForIp(authority, "127.0.0.1");
    var certFile = Files.writeString(dir.resolve("node.crt"), Pki.chainPem(cert));
    var keyFile = Files.writeString(dir.resolve("node.key"), Pki.keyPem(cert));
    ca = Pki.yaml(authority.getCertificatePEM());
    h2cPort = Ports.free();
    h2Port = Ports.free();
    nginx =
        Nginx.start(
            binary,
            dir.resolve("nginx"),
            "",
            """
            listen 127.0.0.1:%d http2;
            listen 127.0.0.1:%d ssl http2;
            ssl_certificate %s;
            ssl_certificate_key %s;
            location / { return 200 "$server_protocol $request_method $request_uri\\n"; }
            """
                .formatted(h2cPort, h2Port, certFile, keyFile));
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    if (nginx != null) {
      nginx.close();
    }
  }

  @Test
  void httpWithHttp2SpeaksH2cToTheNode() throws Exception {
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: h2c
                uri: /h2c/*
                upstream: {scheme: http, http2: true, nodes: {"127.0.0.1:%d": 1}}
              - id: h1
                uri: /h1/*
                upstream: {scheme: http, nodes: {"127.0.0.1:%d": 1}}
            """
                .formatted(h2cPort, nginx.port()));
    var res = gw.get("/h2c/a?b=c");
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("HTTP/2.0 GET /h2c/a?b=c\n");
    assertThat(gw.get("/h1/x").body()).isEqualTo("HTTP/1.1 GET /h1/x\n");
    // Many requests at once share the node's connections as streams.
    assertThat(gw.getAtOnce("/h2c/many", 50)).containsOnly(200);
  }

  @Test
  void httpsWithHttp2SpeaksH2ByAlpnAndVerifiesTheNode() throws Exception {
    var other = Pki.yaml(Pki.authority("Other CA").getCertificatePEM());
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: good
                uri: /good/*
                upstream:
                  scheme: https
                  http2: true
                  nodes: {"127.0.0.1:%d": 1}
                  tls: {verify: true, ca: %s}
              - id: bad
                uri: /bad/*
                upstream:
                  scheme: https
                  http2: true
                  nodes: {"127.0.0.1:%d": 1}
                  tls: {verify: true, ca: %s}
            """
                .formatted(h2Port, ca, h2Port, other));
    var res = gw.get("/good/x");
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("HTTP/2.0 GET /good/x\n");
    assertThat(gw.get("/bad/x").statusCode()).isEqualTo(502);
  }
}
