package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * error-log-logger: ships the gateway's own log lines at {@code level} or above (default {@code
 * WARN}) to a TCP server (each line as it was written) or into a ClickHouse table ({@code {"data":
 * line}} rows, as APISIX), batched as the other loggers. As in APISIX it runs on no route: {@code
 * plugin_metadata/error-log-logger} turns it on and configures it; its route configuration is
 * empty. The {@code skywalking} and {@code kafka} targets are refused by name: not implemented
 * here.
 *
 * <p>The lines are the dataplane's log output (slf4j-simple writes each one to {@code System.err},
 * looked up per line), seen through a tee installed once on {@code System.err}; lines about the
 * shipper itself are left out so a dead peer does not feed on its own warnings.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class ErrorLogLoggerPlugin implements Plugin<ErrorLogLoggerPlugin.Config> {

  /** The route configuration: none (everything is in the plugin's metadata). */
  public record Config() {}

  @Override
  public String name() {
    return "error-log-logger";
  }

  @Override
  public int priority() {
    return 1091;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return Set.of();
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new PluginInstance() {};
  }

  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    Shipper holder = services.shared("error-log-logger", Shipper::new);
    holder.stop();
    if (value != null) {
      holder.start(value, services);
    }
  }

  /** The running shipper of one dataplane, if any. */
  static final class Shipper implements AutoCloseable {
    private Consumer<String> listener;

    @Override
    public void close() {
      stop();
    }

    synchronized void stop() {
      if (listener != null) {
        Tee.LISTENERS.remove(listener);
        listener = null;
      }
    }

    synchronized void start(ObjectNode meta, PluginServices services) {
      var name = meta.path("name").asText("error-log-logger");
      int threshold = rank(meta.path("level").asText("WARN"), "level");
      long timeoutMillis = (long) (meta.path("timeout").asDouble(3) * 1000);
      LogBatcher.Sender sender;
      if (meta.has("skywalking") || meta.has("kafka")) {
        throw new IllegalArgumentException(
            (meta.has("kafka") ? "kafka" : "skywalking")
                + ": not supported by error-log-logger here (expected: tcp or clickhouse)");
      } else if (meta.has("clickhouse")) {
        sender = clickhouse(meta.get("clickhouse"), timeoutMillis, services);
      } else if (meta.has("tcp") || meta.has("host")) {
        sender = tcp(meta.has("tcp") ? meta.get("tcp") : meta, (int) timeoutMillis);
      } else {
        throw new IllegalArgumentException(
            "expected one of tcp, clickhouse (skywalking and kafka are not supported)");
      }
      var batcher =
          new LogBatcher(
              name,
              LogEntries.settings(
                  meta.path("batch_max_size").asInt(1000),
                  meta.path("inactive_timeout").asDouble(3),
                  meta.path("max_retry_count").asInt(0),
                  meta.path("retry_delay").asDouble(1)),
              sender,
              services);
      var self = name + ":";
      listener =
          line -> {
            int level = levelOf(line);
            if (level >= 0 && level <= threshold && !line.contains(self)) {
              batcher.offer(line.getBytes(StandardCharsets.UTF_8));
            }
          };
      Tee.install();
      Tee.LISTENERS.add(listener);
    }
  }

  private static LogBatcher.Sender tcp(JsonNode conf, int timeout) {
    var host = conf.path("host").asText("");
    int port = conf.path("port").asInt(-1);
    if (host.isEmpty() || port < 0 || port > 65535) {
      throw new IllegalArgumentException("tcp: expected {host, port}");
    }
    return LogSockets.tcp(
        host,
        port,
        timeout,
        conf.path("tls").asBoolean(false),
        conf.path("tls_server_name").asText(""),
        batch -> LogEntries.joined(batch, "", "\n", "\n"));
  }

  private static LogBatcher.Sender clickhouse(
      JsonNode conf, long timeoutMillis, PluginServices services) {
    var table = conf.path("logtable").asText("");
    if (table.isEmpty()) {
      throw new IllegalArgumentException("clickhouse.logtable: expected the table to insert into");
    }
    var post =
        LogPost.to(
            "clickhouse.endpoint_addr",
            List.of(conf.path("endpoint_addr").asText("http://127.0.0.1:8123")),
            "",
            Map.of(
                "X-ClickHouse-User", conf.path("user").asText("default"),
                "X-ClickHouse-Key", conf.path("password").asText(""),
                "X-ClickHouse-Database", conf.path("database").asText("")),
            Duration.ofMillis(timeoutMillis),
            false,
            services);
    var insert = "INSERT INTO " + table + " FORMAT JSONEachRow ";
    return batch -> {
      var rows = new java.util.ArrayList<byte[]>(batch.size());
      for (var line : batch) {
        rows.add(
            ModelJson.mapper()
                .writeValueAsBytes(Map.of("data", new String(line, StandardCharsets.UTF_8))));
      }
      post.post(LogEntries.joined(rows, insert, " ", ""), "application/json");
    };
  }

  /** APISIX's levels, most severe first: a line is shipped when its rank is at most the level's. */
  static int rank(String level, String field) {
    return switch (level.toUpperCase(Locale.ROOT)) {
      case "STDERR", "EMERG", "ALERT", "CRIT", "ERR", "ERROR" -> 0;
      case "WARN" -> 1;
      case "NOTICE", "INFO" -> 2;
      case "DEBUG" -> 3;
      default ->
          throw new IllegalArgumentException(
              field
                  + ": \""
                  + level
                  + "\" (expected: STDERR, EMERG, ALERT, CRIT, ERR, ERROR, WARN, NOTICE, INFO or"
                  + " DEBUG)");
    };
  }

  /** The rank of a line slf4j-simple wrote ({@code ... [WARN] Logger - text}), or -1. */
  static int levelOf(String line) {
    if (line.contains("[ERROR]")) {
      return 0;
    }
    if (line.contains("[WARN]")) {
      return 1;
    }
    if (line.contains("[INFO]")) {
      return 2;
    }
    if (line.contains("[DEBUG]") || line.contains("[TRACE]")) {
      return 3;
    }
    return -1;
  }

  /** The tee on {@code System.err}: every line printed goes on, and to the listeners. */
  static final class Tee extends PrintStream {
    static final List<Consumer<String>> LISTENERS = new CopyOnWriteArrayList<>();
    private static boolean installed;

    private Tee(PrintStream out) {
      super(out, true, StandardCharsets.UTF_8);
    }

    static synchronized void install() {
      if (!installed) {
        System.setErr(new Tee(System.err));
        installed = true;
      }
    }

    @Override
    public void println(String line) {
      super.println(line);
      if (line != null) {
        for (var l : LISTENERS) {
          l.accept(line);
        }
      }
    }
  }
}
