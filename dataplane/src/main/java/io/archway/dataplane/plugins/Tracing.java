package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.JsonSchema;
import io.archway.model.ModelJson;
import io.archway.model.Problem;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * What the tracing plugins (opentelemetry, zipkin, skywalking) share, so each only says how its
 * system names and carries things: ids, the clock spans are timed with, sampling, the spans the
 * zipkin and skywalking plugins keep for a request, their metadata schemas and their reporter.
 *
 * <p>Times: a span starts when the request arrived (the exchange's start, read against the wall
 * clock once), the response phases mark when the upstream answered (the header filter runs when the
 * response head is known), the log phase when the response was sent. No hook of the exchange is
 * needed beyond its start.
 */
final class Tracing {

  private Tracing() {}

  /** A random id of {@code bytes} bytes in lower-case hex, never all zeros (W3C, B3). */
  static String hexId(int bytes) {
    var r = ThreadLocalRandom.current();
    var sb = new StringBuilder(bytes * 2);
    while (true) {
      sb.setLength(0);
      boolean zero = true;
      for (int i = 0; i < bytes; i++) {
        int b = r.nextInt(256);
        zero &= b == 0;
        sb.append(Character.forDigit(b >> 4, 16)).append(Character.forDigit(b & 15, 16));
      }
      if (!zero) {
        return sb.toString();
      }
    }
  }

  /** Whether {@code s} is {@code lengths}' hex digits, lower or upper case, not all zeros. */
  static boolean isHexId(String s, int... lengths) {
    if (s == null) {
      return false;
    }
    boolean lengthOk = false;
    for (int l : lengths) {
      lengthOk |= s.length() == l;
    }
    if (!lengthOk) {
      return false;
    }
    boolean nonZero = false;
    for (int i = 0; i < s.length(); i++) {
      int d = Character.digit(s.charAt(i), 16);
      if (d < 0) {
        return false;
      }
      nonZero |= d != 0;
    }
    return nonZero;
  }

  /** The wall-clock time now, in nanoseconds since the epoch. */
  static long nowNanos() {
    var now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** When the request arrived, in nanoseconds since the epoch. */
  static long startNanos(PluginContext ctx) {
    return nowNanos() - (System.nanoTime() - ctx.exchange().startNanos());
  }

  /** One draw of a sampler keeping {@code ratio} of the requests. */
  static boolean sampled(double ratio) {
    return ratio >= 1 || (ratio > 0 && ThreadLocalRandom.current().nextDouble() < ratio);
  }

  /**
   * The request fields named in {@code patterns} (a name, or a prefix ending in {@code *}), each
   * given to {@code out} with its lower-case name: APISIX's {@code
   * additional_header_prefix_attributes}.
   */
  static void headers(HttpHeaders headers, List<String> patterns, BiConsumer<String, String> out) {
    if (patterns == null || patterns.isEmpty()) {
      return;
    }
    for (var e : headers) {
      var name = e.getKey().toLowerCase(Locale.ROOT);
      for (var p : patterns) {
        var q = p.toLowerCase(Locale.ROOT);
        boolean match =
            q.endsWith("*") ? name.startsWith(q.substring(0, q.length() - 1)) : name.equals(q);
        if (match) {
          out.accept(name, e.getValue());
          break;
        }
      }
    }
  }

  // Metadata: APISIX's metadata_schema, checked with the model's validator and its defaults.

  private static final Map<String, JsonSchema> METADATA_SCHEMAS = new ConcurrentHashMap<>();

  /**
   * {@code value} (the plugin's metadata, or {@code null}) checked against its APISIX schema
   * ({@code io/archway/model/plugins/metadata/<plugin>.json}), with the defaults filled in.
   *
   * @throws IllegalArgumentException naming the field at fault
   */
  static ObjectNode metadata(String plugin, ObjectNode value) {
    var schema = METADATA_SCHEMAS.computeIfAbsent(plugin, Tracing::loadMetadataSchema);
    var v = value == null ? ModelJson.mapper().createObjectNode() : value;
    var problems = new ArrayList<Problem>();
    if (!schema.validate(v, "", problems)) {
      throw new IllegalArgumentException(problems.get(0).toString());
    }
    return (ObjectNode) schema.withDefaults(v);
  }

  private static JsonSchema loadMetadataSchema(String plugin) {
    var path = "io/archway/model/plugins/metadata/" + plugin + ".json";
    try (var in = Tracing.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("no schema " + path);
      }
      return JsonSchema.parse(ModelJson.mapper().readTree(in), path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A metadata value read once per change of the metadata object (compared by identity: the config
   * compiler replaces it on every change), so requests do not check and fill it each time.
   */
  static final class Cached<T> {
    private final Function<ObjectNode, T> make;
    private volatile Object source = new Object();
    private volatile T value;

    Cached(Function<ObjectNode, T> make) {
      this.make = make;
    }

    T get(ObjectNode current) {
      if (source != current) {
        synchronized (this) {
          if (source != current) {
            value = make.apply(current);
            source = current;
          }
        }
      }
      return value;
    }
  }

  // The spans zipkin and skywalking keep for a request until its log phase.

  /** One span: times in nanoseconds since the epoch, tags in the order set. */
  static final class Span {
    final String name;
    final String id;
    final String parentId;
    final long start;
    long end;
    final Map<String, String> tags = new LinkedHashMap<>();

    Span(String name, String id, String parentId, long start) {
      this.name = name;
      this.id = id;
      this.parentId = parentId;
      this.start = start;
    }

    Span tag(String key, Object value) {
      if (value != null) {
        tags.put(key, value.toString());
      }
      return this;
    }

    long startMicros() {
      return start / 1000;
    }

    long durationMicros() {
      return Math.max(0, (end - start) / 1000);
    }

    long startMillis() {
      return start / 1_000_000;
    }

    long endMillis() {
      return end / 1_000_000;
    }
  }

  // Reporting: JSON documents queued on the event loop, POSTed as one JSON array per batch from
  // the plugins' I/O threads (a LogBatcher), so a slow collector costs dropped spans, never request
  // time.

  /** Where a reporter sends one batch (read when sending, so a metadata change applies). */
  interface Target {
    Post post();
  }

  /**
   * A reporter: at most {@code batch} documents per POST, a partial batch after {@code
   * intervalMillis}, one retry a second later.
   */
  static LogBatcher reporter(
      String plugin, Target target, int batch, long intervalMillis, PluginServices services) {
    LogBatcher.Sender sender = docs -> target.post().send(LogEntries.joined(docs, "[", ",", "]"));
    return new LogBatcher(
        plugin,
        new LogBatcher.Settings(batch, intervalMillis, 1, 1000, Math.max(10_000, batch * 10)),
        sender,
        services);
  }

  /**
   * A JSON POST to a collector, with an HTTP client of the tracing plugins' own: the plugins'
   * shared client runs its internal work on the two I/O threads the batchers send from, so two
   * collectors that never answer would hold both threads in {@code send} and starve the client
   * itself until the timeouts; this one has the JDK's own executor.
   */
  record Post(URI uri, Duration timeout, HttpClient client) {

    /** Throws when the collector did not take it (300 or more), so the batcher retries. */
    void send(byte[] json) throws IOException, InterruptedException {
      var req =
          HttpRequest.newBuilder(uri)
              .timeout(timeout)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(json))
              .build();
      var res = client.send(req, HttpResponse.BodyHandlers.discarding());
      if (res.statusCode() >= 300) {
        throw new IOException(uri + " answered " + res.statusCode());
      }
    }
  }

  /**
   * A POST to {@code url}.
   *
   * @throws IllegalArgumentException naming {@code field} when it is not an http(s) URL
   */
  static Post post(String field, String url, Duration timeout, PluginServices services) {
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      u = null;
    }
    if (u == null
        || u.getHost() == null
        || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
      throw new IllegalArgumentException(field + ": \"" + url + "\" (expected: an http(s) URL)");
    }
    HttpClient client =
        services.shared(
            "tracing.http",
            () ->
                HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(3))
                    .version(HttpClient.Version.HTTP_1_1)
                    .build());
    return new Post(u, timeout, client);
  }

  static void offer(LogBatcher batcher, String plugin, PluginServices services, JsonNode doc) {
    LogEntries.offer(batcher, plugin, services, doc);
  }
}
