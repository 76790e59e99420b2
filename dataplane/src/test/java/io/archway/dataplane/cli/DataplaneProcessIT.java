package io.archway.dataplane.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar as users run it: start, serve, stop on SIGTERM, refuse a bad file. */
class DataplaneProcessIT {

  @TempDir Path dir;

  private static Path jar() {
    return Path.of("target/archway-dataplane.jar");
  }

  private Process launch(String... args) throws IOException {
    return JarProcess.start(jar(), dir.resolve("out.log"), List.of(), List.of(args));
  }

  @Test
  void servesThenStopsCleanlyOnSigterm() throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: []\n#END\n");
    int httpPort = Ports.free();
    int statusPort = Ports.free();
    var p =
        launch(
            "--standalone",
            file.toString(),
            "--bind",
            "127.0.0.1",
            "--http-port",
            "" + httpPort,
            "--https-port",
            "0",
            "--status-port",
            "" + statusPort,
            "--admin-port",
            "0");
    try {
      var http = HttpClient.newHttpClient();
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () ->
                  http.send(
                              HttpRequest.newBuilder(
                                      URI.create("http://127.0.0.1:" + statusPort + "/readyz"))
                                  .build(),
                              HttpResponse.BodyHandlers.ofString())
                          .statusCode()
                      == 200);
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
      // A graceful stop is a success: 0, not the JVM's 143 (128 + TERM).
      assertThat(p.exitValue()).isZero();
      assertThat(Files.readString(dir.resolve("out.log"))).contains("archway dataplane stopped");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aBadFileStopsTheStartWithEveryProblem() throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes:\n  - uri: nope\n  - uri: /x\n#END\n");
    var p =
        launch(
            "--standalone",
            file.toString(),
            "--http-port",
            "0",
            "--https-port",
            "0",
            "--status-port",
            "0");
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(Files.readString(dir.resolve("out.log")))
        .contains("cannot start, the config file is not usable:")
        .contains(file + ": routes[0]: uri: \"nope\" (expected: starts with \"/\")")
        .contains(file + ": routes[1]: nothing to do (expected: at least one of plugins,");
  }

  @Test
  void anAdminPortInUseStopsTheStartNamingThePortAndTheWayOut() throws Exception {
    var file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: []\n#END\n");
    try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      var p =
          launch(
              "--standalone",
              file.toString(),
              "--http-port",
              "0",
              "--https-port",
              "0",
              "--status-port",
              "0",
              "--admin-port",
              "" + taken.getLocalPort());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(1);
      assertThat(Files.readString(dir.resolve("out.log")))
          .contains("the Admin API cannot listen on 127.0.0.1:" + taken.getLocalPort())
          .contains("--admin-port off");
    }
  }

  @Test
  void usageErrorsExitWithTwo() throws Exception {
    var p = launch("--http-port", "x");
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(dir.resolve("out.log")))
        .contains("--http-port: \"x\" (expected: a port 0..65535)");
  }
}
