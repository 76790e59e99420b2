package io.archway.model;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** Checks for IP addresses, CIDR ranges and host names, with no DNS look-up. */
final class Addresses {

  private static final Pattern IPV4 =
      Pattern.compile(
          "^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");
  private static final Pattern IPV6_CHARS = Pattern.compile("^[0-9a-fA-F:.]+$");

  /** APISIX's host_def: an optional leading {@code *} then host characters. */
  static final Pattern HOST = Pattern.compile("^\\*?[0-9a-zA-Z-._\\[\\]:]+$");

  private Addresses() {}

  static boolean isIp(String s) {
    if (IPV4.matcher(s).matches()) {
      return true;
    }
    if (s.indexOf(':') < 0 || !IPV6_CHARS.matcher(s).matches()) {
      return false;
    }
    try {
      // A literal with ':' is parsed, never resolved.
      InetAddress.getByName(s);
      return true;
    } catch (UnknownHostException | IllegalArgumentException e) {
      return false;
    }
  }

  /** An IP address or a CIDR range of either family: {@code 10.0.0.0/8}, {@code ::1/128}. */
  static final Fields.Check IP_OR_CIDR =
      s -> {
        int slash = s.indexOf('/');
        var ip = slash < 0 ? s : s.substring(0, slash);
        if (!isIp(ip)) {
          return "IPv4 or IPv6 address, optionally with /prefix";
        }
        if (slash >= 0) {
          int max = ip.indexOf(':') >= 0 ? 128 : 32;
          try {
            int bits = Integer.parseInt(s.substring(slash + 1));
            if (bits < 0 || bits > max) {
              return "prefix length 0.." + max;
            }
          } catch (NumberFormatException e) {
            return "prefix length 0.." + max;
          }
        }
        return null;
      };

  static final Fields.Check HOST_NAME = Fields.Check.pattern(HOST);
}
