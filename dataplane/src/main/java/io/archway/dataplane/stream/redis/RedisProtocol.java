package io.archway.dataplane.stream.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.dataplane.stream.SyslogSink;
import io.archway.dataplane.stream.SyslogSinks;
import io.archway.model.StreamRoute;
import io.archway.model.Vars;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Redis stream route's {@code protocol}, compiled once per config change: its fault rules, its
 * loggers (filter and sink), whether sessions share upstream connections ({@code conf.multiplex},
 * true unless set to false; see {@link RedisSession}), the commands it denies ({@code
 * conf.deny_commands}, lower case) and each client's output buffer limits ({@code
 * conf.output_buffer}).
 */
public record RedisProtocol(
    Faults faults,
    List<CommandLogger> loggers,
    boolean multiplex,
    Set<String> denied,
    OutputLimits output) {

  /** A logger: lines for the commands whose variables pass {@code filter} go to {@code sink}. */
  public record CommandLogger(VarsMatcher filter, SyslogSink sink) {}

  /**
   * A client's output buffer limits, as Redis's {@code client-output-buffer-limit}: replies waiting
   * for a client above {@code hardBytes}, or above {@code softBytes} for {@code softNanos} on end,
   * disconnect it. (It stops being read long before: as soon as its replies back up.)
   */
  record OutputLimits(long hardBytes, long softBytes, long softNanos) {
    static final OutputLimits DEFAULTS =
        new OutputLimits(64L << 20, 16L << 20, TimeUnit.SECONDS.toNanos(60));
  }

  /** Like {@link #compile}, for tests and code that has no route: no faults, no loggers. */
  RedisProtocol(Faults faults, List<CommandLogger> loggers, boolean multiplex) {
    this(faults, loggers, multiplex, Set.of(), OutputLimits.DEFAULTS);
  }

  /**
   * Compiles {@code protocol}; sinks come from {@code sinks} and the confs used are added to {@code
   * used}.
   *
   * @throws IllegalArgumentException naming the field at fault
   */
  public static RedisProtocol compile(
      StreamRoute.Protocol protocol, SyslogSinks sinks, Set<SyslogSink.Conf> used) {
    var conf = protocol.conf();
    var faults = Faults.compile(conf == null ? null : conf.get("faults"));
    var multiplex = conf == null ? null : conf.get("multiplex");
    if (multiplex != null && !multiplex.isNull() && !multiplex.isBoolean()) {
      throw new IllegalArgumentException("protocol.conf.multiplex: expected true or false");
    }
    var loggers = new ArrayList<CommandLogger>();
    var mine = new HashSet<SyslogSink.Conf>();
    var list = protocol.logger() == null ? List.<StreamRoute.Logger>of() : protocol.logger();
    for (int i = 0; i < list.size(); i++) {
      var l = list.get(i);
      var at = "protocol.logger[" + i + "]";
      if (!"syslog".equals(l.name())) {
        throw new IllegalArgumentException(at + ".name: \"" + l.name() + "\" (expected: syslog)");
      }
      VarsMatcher filter = null;
      if (l.filter() != null && !l.filter().isEmpty()) {
        try {
          filter = VarsMatcher.compile(Vars.parse((ArrayNode) l.filter()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(at + ".filter: " + e.getMessage());
        }
      }
      var sinkConf = SyslogSink.Conf.read(l.conf(), at + ".conf");
      mine.add(sinkConf);
      loggers.add(new CommandLogger(filter, sinks.sink(sinkConf)));
    }
    used.addAll(mine);
    return new RedisProtocol(
        faults,
        List.copyOf(loggers),
        multiplex == null || multiplex.isNull() || multiplex.asBoolean(),
        denied(conf == null ? null : conf.get("deny_commands")),
        outputLimits(conf == null ? null : conf.get("output_buffer")));
  }

  private static Set<String> denied(JsonNode list) {
    var at = "protocol.conf.deny_commands";
    if (list == null || list.isNull()) {
      return Set.of();
    }
    if (!list.isArray()) {
      throw new IllegalArgumentException(at + ": expected an array of command names");
    }
    var names = new HashSet<String>();
    for (int i = 0; i < list.size(); i++) {
      var n = list.get(i);
      if (!n.isTextual() || n.asText().isBlank() || !n.asText().matches("[!-~]+")) {
        throw new IllegalArgumentException(
            at + "[" + i + "]: expected a command name (one word, such as \"flushall\"), got " + n);
      }
      names.add(n.asText().toLowerCase(Locale.ROOT));
    }
    return Set.copyOf(names);
  }

  private static OutputLimits outputLimits(JsonNode conf) {
    var at = "protocol.conf.output_buffer";
    if (conf == null || conf.isNull()) {
      return OutputLimits.DEFAULTS;
    }
    if (!conf.isObject()) {
      throw new IllegalArgumentException(at + ": expected {hard, soft, soft_seconds}");
    }
    var names = conf.fieldNames();
    while (names.hasNext()) {
      var n = names.next();
      if (!Set.of("hard", "soft", "soft_seconds").contains(n)) {
        throw new IllegalArgumentException(
            at + "." + n + ": unknown field (expected hard, soft, soft_seconds)");
      }
    }
    var d = OutputLimits.DEFAULTS;
    long hard = conf.has("hard") ? size(conf.get("hard"), at + ".hard") : d.hardBytes();
    long soft =
        conf.has("soft") ? size(conf.get("soft"), at + ".soft") : Math.min(d.softBytes(), hard);
    var secs = conf.get("soft_seconds");
    if (secs != null && (!secs.isNumber() || secs.asDouble() < 0)) {
      throw new IllegalArgumentException(at + ".soft_seconds: expected seconds >= 0");
    }
    if (soft > hard) {
      throw new IllegalArgumentException(
          at + ".soft: " + soft + " bytes is above hard (" + hard + " bytes)");
    }
    return new OutputLimits(
        hard, soft, secs == null ? d.softNanos() : (long) (secs.asDouble() * 1e9));
  }

  /**
   * A size: bytes as a number, or a string such as {@code "64mb"}, {@code "512k"}, {@code "1g"}.
   */
  static long size(JsonNode v, String at) {
    if (v.isIntegralNumber() && v.asLong() > 0) {
      return v.asLong();
    }
    var m =
        v.isTextual()
            ? java.util.regex.Pattern.compile("(?i)\\s*(\\d+)\\s*(b|k|kb|m|mb|g|gb)?\\s*")
                .matcher(v.asText())
            : null;
    if (m == null || !m.matches() || m.group(1).length() > 12) {
      throw new IllegalArgumentException(
          at + ": expected a size above 0 (bytes, or a string such as \"64mb\"), got " + v);
    }
    long n = Long.parseLong(m.group(1));
    var unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    long bytes =
        switch (unit.charAt(0)) {
          case 'k' -> n << 10;
          case 'm' -> n << 20;
          case 'g' -> n << 30;
          default -> n;
        };
    if (bytes <= 0) {
      throw new IllegalArgumentException(at + ": expected a size above 0, got " + v);
    }
    return bytes;
  }
}
