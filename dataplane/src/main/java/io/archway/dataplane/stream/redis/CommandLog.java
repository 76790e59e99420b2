package io.archway.dataplane.stream.redis;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.config.RedisProtocol;
import io.archway.dataplane.route.Variables;
import java.net.InetAddress;

/**
 * The route's loggers, for one session's commands: a command whose reply came is offered to every
 * logger whose filter matches it, as one JSON line, built once and only when a logger takes it.
 */
final class CommandLog {

  private final CompiledStream route;
  private final RedisProtocol protocol;
  private final InetAddress clientAddress;
  private final String clientIp;
  private final SessionUpstream upstream;

  CommandLog(
      CompiledStream route, InetAddress clientAddress, String clientIp, SessionUpstream upstream) {
    this.route = route;
    this.protocol = route.redis();
    this.clientAddress = clientAddress;
    this.clientIp = clientIp;
    this.upstream = upstream;
  }

  void log(AwaitedReplies.Pending p, long nanos) {
    var vars = new CommandVars(p, nanos / 1e9);
    String line = null;
    for (var l : protocol.loggers()) {
      if (l.filter() == null || l.filter().matches(vars)) {
        if (line == null) {
          line = json(p, nanos / 1e9);
        }
        l.sink().offer(line);
      }
    }
  }

  private String json(AwaitedReplies.Pending p, double seconds) {
    var enc = JsonStringEncoder.getInstance();
    return "{\"route_id\":\""
        + new String(enc.quoteAsString(route.id()))
        + "\",\"client_ip\":\""
        + clientIp
        + "\",\"upstream\":\""
        + upstream.address()
        + "\",\"cmd\":\""
        + new String(enc.quoteAsString(p.name()))
        + "\",\"key\":\""
        + new String(enc.quoteAsString(p.key()))
        + "\",\"rpc_time\":"
        + seconds
        + "}";
  }

  /** A command's variables for logger filters. */
  private final class CommandVars implements Variables {
    private final AwaitedReplies.Pending p;
    private final double seconds;

    CommandVars(AwaitedReplies.Pending p, double seconds) {
      this.p = p;
      this.seconds = seconds;
    }

    @Override
    public String get(String name) {
      return switch (name) {
        case "rpc_time" -> Double.toString(seconds);
        case "cmd", "redis_cmd" -> p.name();
        case "key", "redis_key" -> p.key();
        case "client_ip", "remote_addr" -> clientIp;
        case "route_id" -> route.id();
        default -> null;
      };
    }

    @Override
    public InetAddress remoteAddress() {
      return clientAddress;
    }
  }
}
