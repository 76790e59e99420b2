package io.archway.dataplane.plugin;

import io.archway.dataplane.route.Variables;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One client connection on a stream route, as stream plugins see it. Its variables ({@link #get})
 * are nginx stream's: {@code remote_addr}, {@code remote_port}, {@code server_addr}, {@code
 * server_port}, {@code route_id}, {@code bytes_sent} (to the client), {@code bytes_received} (from
 * the client), {@code session_time} (seconds, with milliseconds), {@code upstream_addr}, and those
 * plugins set ({@link #set}, such as mqtt-proxy's {@code mqtt_client_id}), which the upstream's
 * {@code chash} key can name.
 */
public interface StreamSession extends Variables {

  String routeId();

  String remoteAddr();

  int remotePort();

  String serverAddr();

  int serverPort();

  /** Bytes read from the client so far. */
  long bytesReceived();

  /** Bytes written to the client so far. */
  long bytesSent();

  /** Since the connection was accepted, in nanoseconds. */
  long sessionNanos();

  /** When the connection was accepted, epoch milliseconds. */
  long startMillis();

  /**
   * What the client has sent so far, not consumed: it goes to the upstream as it is. Only in
   * preread; the buffer stays the session's (neither released nor kept by the plugin).
   */
  ByteBuf preread();

  /** Sets a variable for later plugins, the balancer ({@code chash} key) and loggers. */
  void set(String name, String value);

  /** A plugin's own per-connection state, by owner (usually its instance). */
  <T> T state(Object owner);

  void state(Object owner, Object value);

  /** The connection's event loop, for timers. */
  ScheduledExecutorService executor();
}
