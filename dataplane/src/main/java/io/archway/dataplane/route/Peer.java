package io.archway.dataplane.route;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * What a client connection says about every request on it: the client's address and port, the
 * gateway's port and the scheme. Made once per connection, with the text forms the proxy headers
 * and variables need, so that requests do not format them again.
 */
public record Peer(
    InetAddress address,
    String addressText,
    int port,
    int serverPort,
    String serverPortText,
    String scheme) {

  public static Peer of(InetSocketAddress remote, int serverPort, String scheme) {
    var address = remote == null ? null : remote.getAddress();
    return new Peer(
        address,
        address == null ? "" : address.getHostAddress(),
        remote == null ? 0 : remote.getPort(),
        serverPort,
        Integer.toString(serverPort),
        scheme);
  }
}
