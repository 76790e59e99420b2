package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.server.Dataplane;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.stream.StreamSettings;
import io.archway.model.testing.TestFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** A dataplane in standalone mode on loopback, with its config file, for proxy tests. */
public final class Gateways implements AutoCloseable {

  private final Path file;
  private final Dataplane dataplane;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private Gateways(Path file, Dataplane dataplane) {
    this.file = file;
    this.dataplane = dataplane;
  }

  public static Gateways start(Path dir, String yaml) throws Exception {
    return start(dir, yaml, HttpSettings.DEFAULTS.withAccessLog("off"));
  }

  public static Gateways start(Path dir, String yaml, HttpSettings http) throws Exception {
    return start(dir, yaml, http, StreamSettings.DEFAULTS);
  }

  /** A gateway with stream listeners on {@code stream.ports()}. */
  public static Gateways start(Path dir, String yaml, StreamSettings stream) throws Exception {
    return start(dir, yaml, HttpSettings.DEFAULTS.withAccessLog("off"), stream);
  }

  private static Gateways start(Path dir, String yaml, HttpSettings http, StreamSettings stream)
      throws Exception {
    var file = TestFiles.replaceAtomically(dir.resolve("apisix.yaml"), yaml + "\n#END\n");
    return start(
        file, DataplaneOptions.standaloneOnLoopback(file).withHttp(http).withStream(stream));
  }

  /** A gateway with options changed by {@code options} (pub-sub limits, say). */
  public static Gateways start(
      Path dir, String yaml, java.util.function.UnaryOperator<DataplaneOptions> options)
      throws Exception {
    var file = TestFiles.replaceAtomically(dir.resolve("apisix.yaml"), yaml + "\n#END\n");
    return start(file, options.apply(DataplaneOptions.standaloneOnLoopback(file)));
  }

  /** A gateway whose discovery reaches the Kubernetes API at {@code apiServer}. */
  public static Gateways withKubernetes(Path dir, String yaml, String apiServer) throws Exception {
    var file = TestFiles.replaceAtomically(dir.resolve("apisix.yaml"), yaml + "\n#END\n");
    return start(
        file,
        DataplaneOptions.standaloneOnLoopback(file)
            .withKubernetes(
                new io.archway.dataplane.discovery.KubernetesSettings(null, apiServer)));
  }

  private static Gateways start(Path file, DataplaneOptions options) throws Exception {
    var dp = new Dataplane(options).start();
    // Ready means compiled: the compiler runs before the holder reports the first load.
    await().atMost(Duration.ofSeconds(10)).until(() -> dp.config().loaded());
    return new Gateways(file, dp);
  }

  public Dataplane dataplane() {
    return dataplane;
  }

  public int port() {
    return dataplane.servers().httpPort();
  }

  public int httpsPort() {
    return dataplane.servers().httpsPort();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** Replaces the config and waits until it is compiled and in force. */
  public void reload(String yaml) throws Exception {
    long before = dataplane.servers().compiler().current().revision();
    TestFiles.replaceAtomically(file, yaml + "\n#END\n");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> dataplane.servers().compiler().current().revision() != before);
  }

  /** GET {@code path} with {@code headers} given as name, value, name, value... */
  public HttpResponse<String> get(String path, String... headers) throws Exception {
    var b = HttpRequest.newBuilder(URI.create(url(path)));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** {@code n} GETs of {@code path} sent at once; their statuses, in the order sent. */
  public java.util.List<Integer> getAtOnce(String path, int n) throws Exception {
    var all =
        new java.util.ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<String>>>();
    for (int i = 0; i < n; i++) {
      all.add(
          client.sendAsync(
              HttpRequest.newBuilder(URI.create(url(path))).build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    var codes = new java.util.ArrayList<Integer>();
    for (var f : all) {
      codes.add(f.get().statusCode());
    }
    return codes;
  }

  public HttpClient client() {
    return client;
  }

  public String status(String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + dataplane.servers().statusPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Override
  public void close() {
    dataplane.close();
  }
}
