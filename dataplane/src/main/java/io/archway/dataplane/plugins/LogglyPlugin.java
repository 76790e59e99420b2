package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * loggly: each request's entry (the {@code plugin_metadata}'s {@code log_format}, else APISIX's
 * default entry), batched, sent where the metadata says ({@code host}, {@code port}, {@code
 * protocol}, {@code timeout}; Loggly's own host and syslog port by default, read for every batch so
 * a change applies at once):
 *
 * <ul>
 *   <li>{@code syslog}: an RFC 5424 line per entry, one UDP datagram each, the customer token and
 *       the tags as structured data: {@code <PRI>1 <time> <host> apisix <pid> - [<token>@41058
 *       tag="a" tag="b"] <json>}, the severity {@code severity}, or {@code severity_map}'s for the
 *       response's status;
 *   <li>{@code http}/{@code https}: the entries, one per line, POSTed to Loggly's bulk endpoint
 *       {@code <host>/bulk/<token>/tag/bulk} with the tags in {@code X-LOGGLY-TAG} (a host that
 *       starts with {@code http} is taken as the URL's start).
 * </ul>
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class LogglyPlugin implements EntryLogger<LogglyPlugin.Config> {

  static final Map<String, Integer> SEVERITY =
      Map.of(
          "EMEGR", 0, "ALERT", 1, "CRIT", 2, "ERR", 3, "WARNING", 4, "NOTICE", 5, "INFO", 6,
          "DEBUG", 7);

  static final String HOST = "logs-01.loggly.com";
  static final int PORT = 514;
  static final int TIMEOUT = 5000;

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** The configuration; schema {@code loggly.json}. */
  public record Config(
      String customerToken,
      String severity,
      boolean includeReqBody,
      boolean includeRespBody,
      ArrayNode includeRespBodyExpr,
      List<String> tags,
      boolean sslVerify,
      Map<String, String> severityMap,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  @Override
  public String name() {
    return "loggly";
  }

  @Override
  public int priority() {
    return 411;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  /** APISIX's metadata schema: host, port, protocol (syslog, http, https), timeout, log_format. */
  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    LogEntries.checkMetadata(value, "host", "port", "protocol", "timeout");
    if (value == null) {
      return;
    }
    var host = value.get("host");
    if (host != null && !host.isTextual()) {
      throw new IllegalArgumentException("host: " + host + " (expected: a string)");
    }
    var port = value.get("port");
    if (port != null && (!port.canConvertToInt() || port.asInt() < 1 || port.asInt() > 65535)) {
      throw new IllegalArgumentException("port: " + port + " (expected: an integer 1..65535)");
    }
    var protocol = value.get("protocol");
    if (protocol != null && !List.of("syslog", "http", "https").contains(protocol.asText(""))) {
      throw new IllegalArgumentException(
          "protocol: " + protocol + " (expected: one of syslog, http, https)");
    }
    var timeout = value.get("timeout");
    if (timeout != null && (!timeout.canConvertToInt() || timeout.asInt() < 1)) {
      throw new IllegalArgumentException(
          "timeout: " + timeout + " (expected: milliseconds, at least 1)");
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var bySeverity = new HashMap<Integer, Integer>();
    if (conf.severityMap() != null) {
      conf.severityMap()
          .forEach(
              (k, v) -> {
                int code;
                try {
                  code = Integer.parseInt(k);
                } catch (NumberFormatException e) {
                  code = -1;
                }
                if (code < 100 || code > 599) {
                  throw new IllegalArgumentException(
                      "severity_map: \""
                          + k
                          + "\" (expected: HTTP response codes, 100 to 599, as keys)");
                }
                bySeverity.put(code, SEVERITY.get(v.toUpperCase(Locale.ROOT)));
              });
    }
    int severity = SEVERITY.get(conf.severity().toUpperCase(Locale.ROOT));
    var entries =
        LogEntries.builder(
            name(),
            null,
            conf.includeReqBody(),
            null,
            conf.includeRespBody(),
            conf.includeRespBodyExpr(),
            services);
    var tagList = new StringBuilder();
    for (var t : conf.tags()) {
      tagList.append(tagList.isEmpty() ? "" : " ").append("tag=\"").append(t).append('"');
    }
    var structured = "[" + conf.customerToken() + "@41058 " + tagList + "]";
    long pid = ProcessHandle.current().pid();
    LogBatcher.Sender sender = batch -> send(conf, services, batch);
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          var json = e.toString();
          if (!"syslog".equals(setting(services, "protocol", "syslog"))) {
            batcher.offer(json.getBytes(StandardCharsets.UTF_8));
            return;
          }
          int sev = bySeverity.getOrDefault(ctx.status(), severity);
          var host = ctx.vars().host();
          var line =
              "<"
                  + (8 + sev)
                  + ">1 "
                  + STAMP.format(Instant.now())
                  + " "
                  + (host == null || host.isEmpty() ? "-" : host)
                  + " apisix "
                  + pid
                  + " - "
                  + structured
                  + " "
                  + json;
          batcher.offer(line.getBytes(StandardCharsets.UTF_8));
        });
  }

  private static String setting(PluginServices services, String field, String otherwise) {
    var m = services.metadata("loggly");
    var v = m == null ? null : m.get(field);
    return v == null || v.isNull() ? otherwise : v.asText();
  }

  private static int number(PluginServices services, String field, int otherwise) {
    var m = services.metadata("loggly");
    var v = m == null ? null : m.get(field);
    return v == null || !v.canConvertToInt() ? otherwise : v.asInt();
  }

  /** One batch, where the metadata says now. */
  private static void send(Config conf, PluginServices services, List<byte[]> batch)
      throws Exception {
    var protocol = setting(services, "protocol", "syslog");
    var host = setting(services, "host", HOST);
    int timeout = number(services, "timeout", TIMEOUT);
    if (protocol.equals("syslog")) {
      var to = new InetSocketAddress(host, number(services, "port", PORT));
      try (var socket = new DatagramSocket()) {
        for (var line : batch) {
          socket.send(new DatagramPacket(line, line.length, to));
        }
      }
      return;
    }
    var base = (host.startsWith("http") ? host : protocol + "://" + host).replaceAll("/+$", "");
    var post =
        LogPost.to(
            "plugin_metadata/loggly.host",
            List.of(base),
            "/bulk/" + conf.customerToken() + "/tag/bulk",
            Map.of("X-LOGGLY-TAG", String.join(",", conf.tags())),
            Duration.ofMillis(timeout),
            conf.sslVerify(),
            services);
    post.post(LogEntries.joined(batch, "", "\n", ""), "application/json");
  }
}
