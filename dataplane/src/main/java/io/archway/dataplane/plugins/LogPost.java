package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.support.TlsSockets;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one HTTP sender of the loggers that push to a server (loki, elasticsearch, clickhouse,
 * skywalking): a POST to one of {@code endpoint_addrs}, picked at random as APISIX does, with the
 * JDK's client on the plugins' I/O threads (called from a {@code LogBatcher} sender, never from an
 * event loop). An answer of 300 or more is a failure, which the batcher retries.
 */
final class LogPost {

  private final List<URI> endpoints;
  private final Map<String, String> headers;
  private final Duration timeout;
  private final boolean verify;
  private final PluginServices services;

  private LogPost(
      List<URI> endpoints,
      Map<String, String> headers,
      Duration timeout,
      boolean verify,
      PluginServices services) {
    this.endpoints = endpoints;
    this.headers = headers;
    this.timeout = timeout;
    this.verify = verify;
    this.services = services;
  }

  /**
   * @param field the configuration field the addresses come from, for messages
   * @param path appended to each address ({@code /loki/api/v1/push}), or {@code ""}
   * @throws IllegalArgumentException naming the address that is not an http(s) URL
   */
  static LogPost to(
      String field,
      List<String> addrs,
      String path,
      Map<String, String> headers,
      Duration timeout,
      boolean verify,
      PluginServices services) {
    if (addrs == null || addrs.isEmpty()) {
      throw new IllegalArgumentException(field + ": missing (expected: at least one http(s) URL)");
    }
    var uris = new ArrayList<URI>();
    for (int i = 0; i < addrs.size(); i++) {
      var a = addrs.get(i);
      URI u;
      try {
        u = URI.create(a + path);
      } catch (IllegalArgumentException e) {
        u = null;
      }
      if (u == null
          || u.getHost() == null
          || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
        throw new IllegalArgumentException(
            field
                + (addrs.size() > 1 ? "[" + i + "]" : "")
                + ": \""
                + a
                + "\" (expected: an http(s) URL)");
      }
      uris.add(u);
    }
    return new LogPost(List.copyOf(uris), Map.copyOf(headers), timeout, verify, services);
  }

  /**
   * The loggers' blocking client, with threads of its own. Not the plugins' shared client: its
   * executor is the plugins' two I/O threads, and {@code send} waits for work done on that
   * executor, so two batches sent at once (two loggers, or a batcher's full batch while a partial
   * one is out) would hold both threads waiting for each other's responses.
   */
  static HttpClient client(PluginServices services, boolean verify) {
    return services
        .shared(
            "loggers:http-client:" + verify,
            () -> {
              var b =
                  HttpClient.newBuilder()
                      .connectTimeout(Duration.ofSeconds(3))
                      .version(HttpClient.Version.HTTP_1_1);
              if (!verify) {
                b.sslContext(TlsSockets.trustAllContext());
              }
              return new Client(b.build());
            })
        .http();
  }

  /** Closed with the plugin services: without waiting for requests still out (a hung peer). */
  private record Client(HttpClient http) implements AutoCloseable {
    @Override
    public void close() {
      http.shutdownNow();
    }
  }

  /** POSTs {@code body}; throws when the server did not take it. */
  void post(byte[] body, String contentType) throws IOException, InterruptedException {
    post(body, contentType, Map.of());
  }

  /**
   * POSTs {@code body} with {@code more} headers, made for this batch (an access token, a
   * signature); throws when the server did not take it.
   */
  void post(byte[] body, String contentType, Map<String, String> more)
      throws IOException, InterruptedException {
    var uri = endpoints.get(ThreadLocalRandom.current().nextInt(endpoints.size()));
    var req =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(req::header);
    more.forEach(req::header);
    var res = client(services, verify).send(req.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() >= 300) {
      var text = res.body();
      throw new IOException(
          uri
              + " answered "
              + res.statusCode()
              + (text == null || text.isEmpty()
                  ? ""
                  : ": " + text.substring(0, Math.min(200, text.length()))));
    }
  }
}
