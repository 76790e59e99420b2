package io.archway.dataplane.support;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;

/**
 * The port a connection's {@code server_port} is: the port bound, or, on a listener from
 * configuration bound elsewhere (a privileged port mapped to port + 10000), the port it declares.
 * Routes bind to listeners by it ({@code vars: [["server_port", "==", port]]}, a stream route's
 * {@code server_port}).
 */
public final class ServerPort {

  /** Set on the connections (and UDP channels) of a listener whose declared port is not bound. */
  public static final AttributeKey<Integer> DECLARED = AttributeKey.valueOf("archway.serverPort");

  private ServerPort() {}

  /** The declared port of {@code ch}'s listener, else the local port ({@code -1}: none). */
  public static int of(Channel ch) {
    var declared = ch.attr(DECLARED).get();
    if (declared != null) {
      return declared;
    }
    var parent = ch.parent();
    if (parent != null) {
      // An HTTP/2 stream's child channel: its connection's.
      var p = parent.attr(DECLARED).get();
      if (p != null) {
        return p;
      }
    }
    return ch.localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
  }

  /** {@code ch}'s local address with {@link #of} as its port. */
  public static InetSocketAddress local(Channel ch) {
    var a = (InetSocketAddress) ch.localAddress();
    int port = of(ch);
    return port == a.getPort() ? a : new InetSocketAddress(a.getAddress(), port);
  }
}
