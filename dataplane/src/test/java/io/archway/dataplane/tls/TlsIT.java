package io.archway.dataplane.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.Pki;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.dataplane.testing.TlsClient;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS listener against real TLS clients (the JDK's, with the SNI, protocols and signature
 * schemes each test asks for): certificates chosen by SNI among several, wildcards, the default
 * certificate, RSA and ECDSA for one name, mTLS, bad certificates left out alone, garbage and
 * plaintext on the TLS port, rotation under load.
 */
class TlsIT {

  static X509Bundle ca;
  static TestUpstream up;

  @TempDir Path dir;
  Gateways gw;

  @BeforeAll
  static void setUp() throws Exception {
    ca = Pki.authority("Test CA");
    up = new TestUpstream("up");
  }

  @AfterAll
  static void tearDown() {
    up.close();
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  static String config(String ssls, String routePlugins) {
    return """
        routes:
          - id: r1
            uri: /*
            plugins: %s
            upstream: {nodes: {"%s": 1}}
        ssls:
        %s"""
        .formatted(routePlugins, up.node(), ssls);
  }

  static String config(String ssls) {
    return config(ssls, "{}");
  }

  SSLContext trusting() throws Exception {
    return Pki.clientContext(ca, null);
  }

  @Test
  void theServerNameChoosesTheCertificate() throws Exception {
    var a = Pki.server(ca, false, "a.test");
    var b = Pki.server(ca, true, "b.test", "also-b.test");
    var wild = Pki.server(ca, false, "*.wild.test");
    gw =
        Gateways.start(
            dir,
            config(
                Pki.ssl("a", a, List.of("a.test"), null)
                    + Pki.ssl("b", b, List.of("b.test", "also-b.test"), null)
                    + Pki.ssl("w", wild, List.of("*.wild.test"), null)));
    var client = new TlsClient(trusting());
    int port = gw.httpsPort();

    var resA = client.get(port, "a.test", "/x");
    assertThat(resA.status()).isEqualTo(200);
    assertThat(resA.subject()).isEqualTo("CN=a.test");
    assertThat(up.lastHeaders()).containsEntry("x-forwarded-proto", "https");
    assertThat(client.get(port, "b.test", "/").subject()).isEqualTo("CN=b.test");
    assertThat(client.get(port, "ALSO-B.test", "/").subject()).isEqualTo("CN=b.test");
    assertThat(client.get(port, "x.wild.test", "/").subject()).isEqualTo("CN=*.wild.test");
    // A wildcard covers one label: deeper names and the bare domain get the default, the
    // certificate of the first object by id.
    assertThat(client.get(port, "y.x.wild.test", "/").subject()).isEqualTo("CN=a.test");
    assertThat(new TlsClient(Pki.trustingContext()).get(port, null, "/").subject())
        .isEqualTo("CN=a.test");
    assertThat(new TlsClient(Pki.trustingContext()).get(port, "nothing.test", "/").subject())
        .isEqualTo("CN=a.test");

    // TLS 1.2 and 1.3 both; ALPN offers h2 first (Http2IT), and HTTP/1.1 to a client that
    // offers only that.
    assertThat(new TlsClient(trusting()).protocols("TLSv1.2").get(port, "a.test", "/").protocol())
        .isEqualTo("TLSv1.2");
    assertThat(new TlsClient(trusting()).protocols("TLSv1.3").get(port, "a.test", "/").protocol())
        .isEqualTo("TLSv1.3");
    assertThat(new TlsClient(trusting()).alpn("http/1.1").get(port, "a.test", "/").alpn())
        .isEqualTo("http/1.1");
    assertThat(gw.status("/metrics"))
        .contains("archway_tls_certificates 3")
        .containsPattern("archway_tls_handshakes_total [1-9]");
  }

  @Test
  void oneNameServesRsaAndEcdsaByWhatTheClientOffers() throws Exception {
    var ec = Pki.server(ca, false, "dual.test");
    // Signed with RSA: a client that takes only RSA signatures must be able to check it.
    var rsa = Pki.server(Pki.authority("RSA CA", true), true, "dual.test");
    gw =
        Gateways.start(
            dir,
            config(
                Pki.ssl(
                    "dual",
                    ec,
                    List.of("dual.test"),
                    "certs: ["
                        + Pki.yaml(Pki.chainPem(rsa))
                        + "]\n"
                        + "keys: ["
                        + Pki.yaml(Pki.keyPem(rsa))
                        + "]")));
    int port = gw.httpsPort();
    var ecdsa =
        new TlsClient(Pki.trustingContext())
            .signatureSchemes("ecdsa_secp256r1_sha256")
            .get(port, "dual.test", "/");
    assertThat(ecdsa.keyType()).isEqualTo("EC");
    var pss =
        new TlsClient(Pki.trustingContext())
            .signatureSchemes("rsa_pss_rsae_sha256", "rsa_pkcs1_sha256")
            .get(port, "dual.test", "/");
    assertThat(pss.keyType()).isEqualTo("RSA");
    assertThat(pss.status()).isEqualTo(200);
  }

  @Test
  void unknownNamesCanBeRefused() throws Exception {
    var a = Pki.server(ca, false, "a.test");
    gw =
        Gateways.start(
            dir,
            config(Pki.ssl("a", a, List.of("a.test"), null)),
            o -> o.withTls(TlsSettings.DEFAULTS.withRejectUnknownSni(true)));
    var client = new TlsClient(Pki.trustingContext());
    assertThatThrownBy(() -> client.get(gw.httpsPort(), "other.test", "/"))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> client.get(gw.httpsPort(), null, "/")).isInstanceOf(IOException.class);
    assertThat(client.get(gw.httpsPort(), "a.test", "/").status()).isEqualTo(200);
    await()
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .contains("archway_tls_handshake_failures_total{cause=\"unknown_sni\"} 2"));
  }

  @Test
  void clientCertificatesAreRequiredCheckedAndCanBeSkippedByPath() throws Exception {
    var clientCa = Pki.authority("Client CA");
    var middle = Pki.intermediate(clientCa, "Client Intermediate");
    var mtls = Pki.server(ca, false, "mtls.test");
    var deep = Pki.server(ca, false, "deep.test");
    var some = Pki.server(ca, false, "some.test");
    var caPem = Pki.yaml(clientCa.getCertificatePEM());
    gw =
        Gateways.start(
            dir,
            config(
                Pki.ssl("m", mtls, List.of("mtls.test"), "client: {ca: " + caPem + "}")
                    + Pki.ssl(
                        "d", deep, List.of("deep.test"), "client: {ca: " + caPem + ", depth: 2}")
                    + Pki.ssl(
                        "s",
                        some,
                        List.of("some.test"),
                        "client: {ca: " + caPem + ", skip_mtls_uri_regex: [\"^/public\"]}")));
    int port = gw.httpsPort();
    var direct = Pki.client(clientCa, "alice");
    var viaIntermediate = Pki.client(middle, "bob");
    var stranger = Pki.client(Pki.authority("Other CA"), "mallory");

    assertThat(new TlsClient(Pki.clientContext(ca, direct)).get(port, "mtls.test", "/").status())
        .isEqualTo(200);
    assertRefused(Pki.clientContext(ca, null), port, "mtls.test");
    assertRefused(Pki.clientContext(ca, stranger), port, "mtls.test");
    // Depth 1 takes certificates the CA signed itself; depth 2 one intermediate between.
    assertRefused(Pki.clientContext(ca, viaIntermediate), port, "mtls.test");
    assertThat(
            new TlsClient(Pki.clientContext(ca, viaIntermediate))
                .get(port, "deep.test", "/")
                .status())
        .isEqualTo(200);
    // skip_mtls_uri_regex: a certificate is asked for, not required; other paths need one.
    var anonymous = new TlsClient(Pki.clientContext(ca, null));
    assertThat(anonymous.get(port, "some.test", "/public/x").status()).isEqualTo(200);
    var denied = anonymous.get(port, "some.test", "/private");
    assertThat(denied.status()).isEqualTo(400);
    assertThat(denied.body()).contains("No required SSL certificate was sent");
    assertThat(
            new TlsClient(Pki.clientContext(ca, direct))
                .get(port, "some.test", "/private")
                .status())
        .isEqualTo(200);
    await()
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .containsPattern(
                        "archway_tls_handshake_failures_total\\{cause=\"handshake\"} [3-9]"));
  }

  private static void assertRefused(SSLContext ctx, int port, String sni) {
    // TLS 1.3 reports a refused client certificate after the handshake, on the first read.
    assertThatThrownBy(() -> new TlsClient(ctx).get(port, sni, "/"))
        .isInstanceOfAny(SSLException.class, IOException.class);
  }

  @Test
  void badCertificatesAreLeftOutAloneAndExpiredOnesServedAndCounted() throws Exception {
    var good = Pki.server(ca, false, "good.test");
    var other = Pki.server(ca, false, "mismatch.test");
    var expired = Pki.expired(ca, "expired.test");
    var rsa = Pki.server(ca, true, "pkcs1.test");
    var ec = Pki.server(ca, false, "sec1.test");
    var mismatch =
        "  - id: mismatch\n    snis: [mismatch.test]\n    cert: "
            + Pki.yaml(Pki.chainPem(other))
            + "\n    key: "
            + Pki.yaml(Pki.keyPem(good))
            + "\n";
    var malformed =
        "  - id: malformed\n    snis: [malformed.test]\n    cert: "
            + Pki.yaml(
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
            + "\n    key: "
            + Pki.yaml(Pki.keyPem(good))
            + "\n";
    var traditional =
        "  - id: pkcs1\n    snis: [pkcs1.test]\n    cert: "
            + Pki.yaml(Pki.chainPem(rsa))
            + "\n    key: "
            + Pki.yaml(Pki.traditionalKeyPem(rsa))
            + "\n  - id: sec1\n    snis: [sec1.test]\n    cert: "
            + Pki.yaml(Pki.chainPem(ec))
            + "\n    key: "
            + Pki.yaml(Pki.traditionalKeyPem(ec))
            + "\n";
    gw =
        Gateways.start(
            dir,
            config(
                Pki.ssl("a-good", good, List.of("good.test"), null)
                    + mismatch
                    + malformed
                    + Pki.ssl("expired", expired, List.of("expired.test"), null)
                    + traditional));
    var client = new TlsClient(Pki.trustingContext());
    int port = gw.httpsPort();
    assertThat(client.get(port, "good.test", "/").status()).isEqualTo(200);
    // Left out: their names fall back to the default certificate.
    assertThat(client.get(port, "mismatch.test", "/").subject()).isEqualTo("CN=good.test");
    assertThat(client.get(port, "malformed.test", "/").subject()).isEqualTo("CN=good.test");
    // Served although expired, and counted.
    assertThat(client.get(port, "expired.test", "/").subject()).isEqualTo("CN=expired.test");
    // Keys as openssl and cert-manager write them.
    assertThat(client.get(port, "pkcs1.test", "/").subject()).isEqualTo("CN=pkcs1.test");
    assertThat(client.get(port, "sec1.test", "/").subject()).isEqualTo("CN=sec1.test");
    assertThat(gw.status("/metrics"))
        .contains("archway_config_objects_rejected{kind=\"ssls\"} 2")
        .contains("archway_tls_certificates 4")
        .contains("archway_tls_certificates_expired 1")
        .contains("archway_tls_certificate_expiry_timestamp_seconds{ssl=\"expired\"} ");
  }

  @Test
  void garbageAndPlaintextOnTheTlsPortAreClosedAndCounted() throws Exception {
    var a = Pki.server(ca, false, "a.test");
    gw = Gateways.start(dir, config(Pki.ssl("a", a, List.of("a.test"), null)));
    int port = gw.httpsPort();
    assertClosed(
        port, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    // A TLS record header followed by nonsense.
    var garbage = new byte[64];
    new java.util.Random(1).nextBytes(garbage);
    garbage[0] = 0x16;
    garbage[1] = 0x03;
    garbage[2] = 0x01;
    garbage[3] = 0x00;
    garbage[4] = 0x3b;
    assertClosed(port, garbage);
    assertThat(new TlsClient(trusting()).get(port, "a.test", "/").status()).isEqualTo(200);
    await()
        .untilAsserted(
            () ->
                assertThat(gw.status("/metrics"))
                    .contains("archway_tls_handshake_failures_total{cause=\"not_tls\"} 1")
                    .contains("archway_tls_handshake_failures_total{cause=\"handshake\"} 1"));
  }

  private static void assertClosed(int port, byte[] bytes) throws Exception {
    try (var s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(bytes);
      s.getOutputStream().flush();
      var in = s.getInputStream();
      // Nothing HTTP comes back; an alert at most, then the end.
      var got = in.readAllBytes();
      assertThat(new String(got, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1");
    }
  }

  @Test
  void certificatesRotateUnderLoadWithoutAFailedRequest() throws Exception {
    var first = Pki.server(ca, false, "rot.test");
    gw = Gateways.start(dir, config(Pki.ssl("rot", first, List.of("rot.test"), null)));
    int port = gw.httpsPort();
    var ctx = trusting();
    var serials = ConcurrentHashMap.<String>newKeySet();
    var failures = new ArrayList<Throwable>();
    var ok = new AtomicInteger();
    var running = new AtomicBoolean(true);
    var threads = new ArrayList<Thread>();
    for (int t = 0; t < 4; t++) {
      var thread =
          new Thread(
              () -> {
                var client = new TlsClient(ctx);
                while (running.get()) {
                  try {
                    var r = client.get(port, "rot.test", "/");
                    if (r.status() != 200) {
                      throw new IllegalStateException("status " + r.status());
                    }
                    serials.add(r.serial());
                    ok.incrementAndGet();
                  } catch (Exception e) {
                    synchronized (failures) {
                      failures.add(e);
                    }
                  }
                }
              });
      thread.start();
      threads.add(thread);
    }
    var expected = Set.<String>of();
    try {
      await().until(() -> ok.get() > 20);
      var second = Pki.server(ca, false, "rot.test");
      gw.reload(config(Pki.ssl("rot", second, List.of("rot.test"), null)));
      int at = ok.get();
      await().until(() -> ok.get() > at + 20);
      var third = Pki.server(ca, true, "rot.test");
      gw.reload(config(Pki.ssl("rot", third, List.of("rot.test"), null)));
      int at2 = ok.get();
      await().until(() -> ok.get() > at2 + 20);
      expected =
          Set.of(
              first.getCertificate().getSerialNumber().toString(16),
              second.getCertificate().getSerialNumber().toString(16),
              third.getCertificate().getSerialNumber().toString(16));
    } finally {
      running.set(false);
      for (var t : threads) {
        t.join();
      }
    }
    assertThat(failures).isEmpty();
    assertThat(serials).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void httpToHttpsRedirectsToTheHttpsListener() throws Exception {
    var a = Pki.server(ca, false, "a.test");
    gw =
        Gateways.start(
            dir,
            config(Pki.ssl("a", a, List.of("a.test"), null), "{redirect: {http_to_https: true}}"));
    gw.dataplane().servers().compiler().pluginServices().httpsPort(gw.httpsPort());
    String location;
    try (var s = new Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              ("GET /path?q=1 HTTP/1.1\r\nHost: a.test:"
                      + gw.port()
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      var head = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(head).startsWith("HTTP/1.1 301");
      location =
          head.lines()
              .filter(l -> l.toLowerCase().startsWith("location:"))
              .findFirst()
              .orElseThrow()
              .substring(9)
              .strip();
    }
    assertThat(location).isEqualTo("https://a.test:" + gw.httpsPort() + "/path?q=1");
    var followed = new TlsClient(trusting()).get(gw.httpsPort(), "a.test", "/path?q=1");
    assertThat(followed.status()).isEqualTo(200);
    assertThat(up.lastRequest()).contains("/path?q=1");
  }

  @Test
  void theExampleFileServes() throws Exception {
    var example =
        java.nio.file.Files.readString(Path.of("../examples/https.yaml"))
            .replace("127.0.0.1:8000", up.node())
            .replace("#END", "");
    gw = Gateways.start(dir, example);
    gw.dataplane().servers().compiler().pluginServices().httpsPort(gw.httpsPort());
    var res = new TlsClient(Pki.trustingContext()).get(gw.httpsPort(), "app.example.com", "/hello");
    assertThat(res.status()).isEqualTo(200);
    assertThat(res.subject()).isEqualTo("CN=app.example.com");
    assertThat(
            new TlsClient(Pki.trustingContext())
                .get(gw.httpsPort(), "www.app.example.com", "/hello")
                .status())
        .isEqualTo(200);
  }

  /** Runs a command, returning what it printed (both streams); {@code null} when not installed. */
  private static String run(String... command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return null; // not installed here
    }
    p.getOutputStream().close();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  /**
   * {@code openssl s_client} over TLS 1.2 to {@code serverName}, writing ({@code -sess_out}) or
   * offering ({@code -sess_in}) the session in {@code session}; {@code null} without openssl.
   */
  private static String sClient(int port, String serverName, String sessionFlag, Path session)
      throws Exception {
    return run(
        "openssl",
        "s_client",
        "-connect",
        "127.0.0.1:" + port,
        "-servername",
        serverName,
        "-tls1_2",
        sessionFlag,
        session.toString());
  }

  @Test
  void curlAndOpensslWhereThereAreAny() throws Exception {
    var a = Pki.server(ca, false, "a.test");
    var b = Pki.server(ca, true, "b.test");
    gw =
        Gateways.start(
            dir,
            config(
                Pki.ssl("a", a, List.of("a.test"), null)
                    + Pki.ssl("b", b, List.of("b.test"), null)));
    int port = gw.httpsPort();
    var caFile = dir.resolve("ca.pem");
    java.nio.file.Files.writeString(caFile, ca.getCertificatePEM());
    var curl =
        run(
            "curl",
            "-sS",
            "--cacert",
            caFile.toString(),
            "--resolve",
            "a.test:" + port + ":127.0.0.1",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_version}",
            "https://a.test:" + port + "/x");
    org.junit.jupiter.api.Assumptions.assumeTrue(curl != null, "curl is not installed");
    assertThat(curl).isEqualTo("200 2"); // verified against the CA, by name; h2 by ALPN
    var session = dir.resolve("session.pem");
    var first = sClient(port, "b.test", "-sess_out", session);
    org.junit.jupiter.api.Assumptions.assumeTrue(first != null, "openssl is not installed");
    assertThat(first).contains("subject=CN = b.test").contains("New, TLSv1.2");
    // The session resumes with the same name, and not with another one.
    var again = sClient(port, "b.test", "-sess_in", session);
    assertThat(again).contains("Reused, TLSv1.2");
    var other = sClient(port, "a.test", "-sess_in", session);
    assertThat(other).contains("New, TLSv1.2").contains("subject=CN = a.test");
  }
}
