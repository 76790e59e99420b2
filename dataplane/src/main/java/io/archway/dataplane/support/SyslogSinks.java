package io.archway.dataplane.support;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The syslog sinks the config in force uses, one per distinct conf: routes that log to the same
 * place share a thread and a socket, and a sink no route uses after a change is closed.
 */
public final class SyslogSinks implements AutoCloseable {

  private final Map<SyslogSink.Conf, SyslogSink> sinks = new HashMap<>();

  public synchronized SyslogSink sink(SyslogSink.Conf conf) {
    return sinks.computeIfAbsent(conf, SyslogSink::new);
  }

  /** Closes the sinks whose conf is not in {@code used}. */
  public synchronized void retain(Set<SyslogSink.Conf> used) {
    var it = sinks.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!used.contains(e.getKey())) {
        e.getValue().close();
        it.remove();
      }
    }
  }

  /** Lines sent and dropped by every sink, for {@code /metrics}. */
  public synchronized long[] totals() {
    long sent = 0;
    long dropped = 0;
    for (var s : sinks.values()) {
      sent += s.sent();
      dropped += s.dropped();
    }
    return new long[] {sent, dropped};
  }

  @Override
  public synchronized void close() {
    sinks.values().forEach(SyslogSink::close);
    sinks.clear();
  }
}
