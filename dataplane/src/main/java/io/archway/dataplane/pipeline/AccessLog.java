package io.archway.dataplane.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one JSON object per request. Event loops only offer an entry to a bounded queue
 * (never block; when it is full the entry is dropped and counted); a thread of its own formats and
 * writes them.
 */
public final class AccessLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);

  /** What is logged of one request. */
  public record Entry(
      long epochMillis,
      String remoteAddr,
      String method,
      String uri,
      String protocol,
      String host,
      int status,
      long bytesSent,
      long durationMicros,
      String routeId,
      String upstreamAddr,
      long upstreamMicros,
      String userAgent,
      Llm llm) {}

  /**
   * What an AI plugin learned of an LLM call (APISIX's {@code $llm_*} variables of its access log
   * format), or {@code null} for other requests.
   */
  public record Llm(
      String model, String timeToFirstToken, String promptTokens, String completionTokens) {}

  private final BlockingQueue<Entry> queue;
  private final Path path;
  private Writer out;
  private volatile Supplier<JsonNode> rotation = () -> null;
  private long rotatedAt = System.currentTimeMillis();
  private final Thread writer;
  private final LongAdder dropped = new LongAdder();
  private volatile boolean closed;

  private AccessLog(Writer out, Path path) {
    this.out = out;
    this.path = path;
    this.queue = out == null ? null : new ArrayBlockingQueue<>(65536);
    this.writer =
        out == null
            ? null
            : Thread.ofPlatform().daemon().name("archway-access-log").unstarted(this::run);
    if (writer != null) {
      writer.start();
    }
  }

  /** {@code off}, {@code -} (standard output) or a file, appended to. */
  public static AccessLog open(String where) throws IOException {
    if (where == null || where.equals("off")) {
      return new AccessLog(null, null);
    }
    if (where.equals("-")) {
      return new AccessLog(
          new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16),
          null);
    }
    var path = Path.of(where);
    return new AccessLog(append(path), path);
  }

  private static Writer append(Path path) throws IOException {
    return Files.newBufferedWriter(
        path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /**
   * Where the rotation settings are read (log-rotate's {@code plugin_metadata}: {@code interval}
   * seconds, {@code max_size} bytes, {@code max_kept} files, {@code enable_compression}); none, no
   * rotation. Read by the writer thread, so a change applies without a restart.
   */
  public void rotation(Supplier<JsonNode> settings) {
    this.rotation = settings;
  }

  public boolean enabled() {
    return out != null;
  }

  /** Entries dropped because the writer fell behind. */
  public long dropped() {
    return dropped.sum();
  }

  void offer(Entry e) {
    if (queue != null && !queue.offer(e)) {
      dropped.increment();
    }
  }

  private void run() {
    var line = new StringBuilder(512);
    while (!closed || !queue.isEmpty()) {
      try {
        var e = queue.poll(200, TimeUnit.MILLISECONDS);
        rotateIfDue();
        if (e == null) {
          continue;
        }
        do {
          line.setLength(0);
          format(e, line);
          out.write(line.toString());
        } while ((e = queue.poll()) != null);
        out.flush();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException ex) {
        log.warn("access log: cannot write: {}", ex.getMessage());
      }
    }
  }

  /**
   * On the writer thread: renames the file to {@code <yyyy-MM-dd_HH-mm-ss>__<name>} (APISIX's
   * naming) when {@code interval} passed since the last rotation or the file reached {@code
   * max_size}, opens a new one, gzips the old one with {@code enable_compression} and deletes the
   * oldest past {@code max_kept}.
   */
  private void rotateIfDue() throws IOException {
    var settings = path == null ? null : rotation.get();
    long now = System.currentTimeMillis();
    if (settings == null) {
      rotatedAt = now;
      return;
    }
    long interval = (long) (settings.path("interval").asDouble(3600) * 1000);
    long maxSize = settings.path("max_size").asLong(-1);
    boolean due = now - rotatedAt >= interval;
    if (!due && maxSize > 0) {
      out.flush();
      due = Files.exists(path) && Files.size(path) >= maxSize;
    }
    if (!due) {
      return;
    }
    rotatedAt = now;
    out.close();
    var name = path.getFileName().toString();
    var dir = path.toAbsolutePath().getParent();
    var stamp = ROTATED.format(Instant.ofEpochMilli(now));
    var rotated = dir.resolve(stamp + "__" + name);
    for (int i = 1; Files.exists(rotated) || Files.exists(gz(rotated)); i++) {
      rotated = dir.resolve(stamp + "-" + i + "__" + name);
    }
    if (Files.exists(path)) {
      Files.move(path, rotated);
    }
    out = append(path);
    if (Files.exists(rotated) && settings.path("enable_compression").asBoolean(false)) {
      try (var in = Files.newInputStream(rotated);
          var zip = new GZIPOutputStream(Files.newOutputStream(gz(rotated)))) {
        in.transferTo(zip);
      }
      Files.delete(rotated);
    }
    int keep = settings.path("max_kept").asInt(168);
    var old = new ArrayList<Path>();
    try (var files = Files.list(dir)) {
      files
          .filter(
              p -> {
                var n = p.getFileName().toString();
                return n.endsWith("__" + name) || n.endsWith("__" + name + ".gz");
              })
          .sorted()
          .forEach(old::add);
    }
    for (int i = 0; i < old.size() - keep; i++) {
      Files.deleteIfExists(old.get(i));
    }
  }

  private static Path gz(Path p) {
    return p.resolveSibling(p.getFileName() + ".gz");
  }

  private static final DateTimeFormatter ROTATED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd_HH-mm-ss").withZone(ZoneOffset.UTC);

  static void format(Entry e, StringBuilder b) {
    b.append("{\"time\":\"").append(Instant.ofEpochMilli(e.epochMillis())).append('"');
    field(b, "remote_addr", e.remoteAddr());
    field(b, "method", e.method());
    field(b, "uri", e.uri());
    field(b, "protocol", e.protocol());
    field(b, "host", e.host());
    b.append(",\"status\":").append(e.status());
    b.append(",\"bytes_sent\":").append(e.bytesSent());
    b.append(",\"request_time\":").append(e.durationMicros() / 1e6);
    field(b, "route_id", e.routeId());
    field(b, "upstream_addr", e.upstreamAddr());
    if (e.upstreamAddr() != null) {
      b.append(",\"upstream_response_time\":").append(e.upstreamMicros() / 1e6);
    }
    field(b, "user_agent", e.userAgent());
    if (e.llm() != null) {
      field(b, "llm_model", e.llm().model());
      field(b, "llm_time_to_first_token", e.llm().timeToFirstToken());
      field(b, "llm_prompt_tokens", e.llm().promptTokens());
      field(b, "llm_completion_tokens", e.llm().completionTokens());
    }
    b.append("}\n");
  }

  private static void field(StringBuilder b, String name, String v) {
    if (v == null) {
      return;
    }
    b.append(",\"").append(name).append("\":\"");
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }

  @Override
  public void close() {
    closed = true;
    if (writer != null) {
      try {
        writer.join(2000);
        out.flush();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        // nothing more can be done with a log that cannot be written
      }
    }
  }
}
