package io.archway.dataplane.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Pki;
import io.archway.dataplane.testing.TestUpstream;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.source.EtcdTls;
import io.archway.model.testing.EtcdServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An external etcd as production runs it: TLS on the client port, client certificates required,
 * users and passwords on. The operator's writer and the dataplane both reach it with the same
 * options the Helm chart gives them ({@code --etcd-ca}, {@code --etcd-cert}, {@code --etcd-key},
 * the user and password); a wrong password keeps the dataplane not ready, saying why.
 */
class EtcdSecurityIT {

  @TempDir static Path dir;
  static EtcdServer etcd;
  static EtcdTls tls;
  static TestUpstream up;
  Dataplane dataplane;

  @BeforeAll
  static void start() throws Exception {
    var ca = Pki.authority("etcd CA");
    var server = Pki.serverForIp(ca, "127.0.0.1");
    var client = Pki.client(ca, "archway");
    var caFile = Files.writeString(dir.resolve("ca.crt"), ca.getCertificatePEM());
    var serverCert = Files.writeString(dir.resolve("server.crt"), Pki.chainPem(server));
    var serverKey = Files.writeString(dir.resolve("server.key"), Pki.keyPem(server));
    var clientCert = Files.writeString(dir.resolve("tls.crt"), Pki.chainPem(client));
    // As cert-manager writes it: SEC1, not PKCS#8.
    var clientKey = Files.writeString(dir.resolve("tls.key"), Pki.traditionalKeyPem(client));
    etcd = new EtcdServer().withTls(serverCert, serverKey, caFile).start();
    tls = new EtcdTls(caFile, clientCert, clientKey);
    // Users on: root (etcd's admin) and a password.
    var builder = Client.builder().endpoints(etcd.endpoint());
    tls.apply(builder);
    try (var admin = builder.build()) {
      var auth = admin.getAuthClient();
      auth.userAdd(bytes("root"), bytes("root-password")).get();
      auth.userGrantRole(bytes("root"), bytes("root")).get();
      auth.authEnable().get();
    }
    up = new TestUpstream("secure");
    try (var sink =
        EtcdConfigSink.connect(List.of(etcd.endpoint()), "/secure", "root", "root-password", tls)) {
      // As the operator writes: through its sink, with the same TLS and credentials.
      var route =
          io.archway.model.ModelJson.read(
              io.archway.model.Kind.ROUTES,
              io.archway.model.ModelJson.mapper()
                  .readTree(
                      "{\"id\":\"r1\",\"uri\":\"/*\",\"upstream\":{\"nodes\":{\""
                          + up.node()
                          + "\":1}}}"),
              "r1",
              "routes/r1");
      sink.putIfChanged(
          io.archway.model.Kind.ROUTES,
          route,
          new io.archway.model.sink.Owner("ApisixRoute", "default", "r", "uid-1"));
    }
  }

  @AfterAll
  static void stop() {
    up.close();
    etcd.close();
  }

  @AfterEach
  void stopDataplane() {
    if (dataplane != null) {
      dataplane.close();
    }
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  DataplaneOptions options(String password) {
    return DataplaneOptions.etcdOnLoopback(List.of(etcd.endpoint()), "/secure")
        .withEtcdLogin("root", password, tls)
        .withWorkers(1);
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theDataplaneReadsItsConfigOverTlsWithAUserAndPassword() throws Exception {
    dataplane = new Dataplane(options("root-password")).start();
    await().atMost(Duration.ofSeconds(20)).until(() -> dataplane.config().loaded());
    assertThat(get(dataplane.servers().httpPort(), "/anything").statusCode()).isEqualTo(200);
  }

  @Test
  void aWrongPasswordKeepsItNotReadyAndSaysWhy() throws Exception {
    dataplane = new Dataplane(options("wrong")).start();
    int status = dataplane.servers().statusPort();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              var ready = get(status, "/readyz");
              assertThat(ready.statusCode()).isEqualTo(503);
              assertThat(ready.body()).containsIgnoringCase("auth");
            });
  }
}
