package io.archway.dataplane.stream.redis;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.dataplane.stream.SyslogSink;
import io.archway.dataplane.stream.SyslogSinks;
import io.archway.model.StreamRoute;
import io.archway.model.Vars;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A Redis stream route's {@code protocol}, compiled once per config change: its fault rules, its
 * loggers (filter and sink), and whether sessions share upstream connections ({@code
 * conf.multiplex}, true unless set to false; see {@link RedisSession}).
 */
public record RedisProtocol(Faults faults, List<CommandLogger> loggers, boolean multiplex) {

  /** A logger: lines for the commands whose variables pass {@code filter} go to {@code sink}. */
  public record CommandLogger(VarsMatcher filter, SyslogSink sink) {}

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
        multiplex == null || multiplex.isNull() || multiplex.asBoolean());
  }
}
