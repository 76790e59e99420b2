package io.archway.dataplane.route;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 address range, matched byte by byte with no allocation. */
public final class Cidr {

  private final byte[] network;
  private final int bits;

  private Cidr(byte[] network, int bits) {
    this.network = network;
    this.bits = bits;
  }

  /**
   * Parses {@code 10.0.0.0/8}, {@code 2001:db8::/32} or a single address.
   *
   * @throws IllegalArgumentException when it is neither
   */
  public static Cidr parse(String s) {
    int slash = s.indexOf('/');
    byte[] addr;
    try {
      addr = literal(slash < 0 ? s : s.substring(0, slash)).getAddress();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not an IP address: " + s);
    }
    int bits = slash < 0 ? addr.length * 8 : Integer.parseInt(s.substring(slash + 1));
    if (bits < 0 || bits > addr.length * 8) {
      throw new IllegalArgumentException("bad prefix length: " + s);
    }
    return new Cidr(addr, bits);
  }

  /**
   * An IPv4 or IPv6 address literal; names are refused, so nothing is ever looked up.
   *
   * @throws IllegalArgumentException when {@code ip} is not an address
   */
  static InetAddress literal(String ip) {
    // Not InetAddress.getByName: it looks up what is not a literal, and a name that starts with a
    // digit ("1.example.com", from a request's header for ipmatch) was looked up in DNS, blocking
    // the event loop.
    var bytes = NetUtil.createByteArrayFromIpAddressString(ip);
    if (bytes == null) {
      throw new IllegalArgumentException("not an IP address: " + ip);
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + ip);
    }
  }

  public boolean contains(InetAddress address) {
    if (address == null) {
      return false;
    }
    var a = address.getAddress();
    if (a.length != network.length) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (network[full] & mask);
  }
}
