package io.archway.dataplane.config;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * The stream routes in force, in the order they are tried: most conditions first (a route for one
 * client range before the catch-all of its port), then by id, so the choice never depends on the
 * order the config was read in.
 */
final class StreamRoutes {

  static final StreamRoutes EMPTY = new StreamRoutes(List.of());

  private final List<CompiledStream> routes;

  private StreamRoutes(List<CompiledStream> routes) {
    this.routes = routes;
  }

  static StreamRoutes of(List<CompiledStream> routes) {
    var sorted = new ArrayList<>(routes);
    sorted.sort(
        Comparator.comparingInt(CompiledStream::specificity)
            .reversed()
            .thenComparing(CompiledStream::id));
    return new StreamRoutes(List.copyOf(sorted));
  }

  /**
   * The route for a TCP connection or a UDP session ({@code udp}), or {@code null}: the first that
   * matches and {@linkplain #serves serves the transport}; on UDP, never one with {@code sni} (a
   * datagram names no server).
   *
   * @param schemes the {@code scheme} of a route's upstream (its own, or the one it names) as
   *     written, {@code null} for none
   */
  CompiledStream match(
      int serverPort,
      InetAddress client,
      InetAddress local,
      boolean udp,
      Function<CompiledStream, String> schemes) {
    for (var r : routes) {
      if (r.matches(serverPort, client, local)
          && !(udp && r.route().sni() != null)
          && serves(schemes.apply(r), udp)) {
        return r;
      }
    }
    return null;
  }

  /**
   * Whether a route whose upstream has this {@code scheme} serves a socket of the transport: an
   * upstream of {@code scheme: udp} serves UDP only, {@code tcp} and {@code tls} TCP only, any
   * other (none, as most APISIX stream routes are written) both. This is what keeps a TCP and a UDP
   * listener apart on one port number (Gateway API allows them together): their routes have the
   * same {@code server_port}.
   */
  static boolean serves(String scheme, boolean udp) {
    if ("udp".equals(scheme)) {
      return udp;
    }
    if ("tcp".equals(scheme) || "tls".equals(scheme)) {
      return !udp;
    }
    return true;
  }

  /**
   * The route for a TLS passthrough connection that asked for {@code sni} ({@code null}: none):
   * among the routes matching as {@link #match} does on TCP, the one whose {@code sni} is the name
   * exactly, then one whose {@code *.} wildcard covers it, the longest suffix first (a wildcard
   * covers one or more labels, as route hosts and Gateway API hostnames do: {@code *.example.com}
   * takes {@code a.example.com} and {@code a.b.example.com}, never {@code example.com}), then one
   * without {@code sni}; else {@code null}.
   */
  CompiledStream matchSni(
      int serverPort,
      String sni,
      InetAddress client,
      InetAddress local,
      Function<CompiledStream, String> schemes) {
    var name = sni == null ? null : sni.toLowerCase(java.util.Locale.ROOT);
    if (name != null && name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    CompiledStream byWildcard = null;
    int wildcardLength = -1;
    CompiledStream any = null;
    for (var r : routes) {
      if (!r.matches(serverPort, client, local) || !serves(schemes.apply(r), false)) {
        continue;
      }
      var routeSni = r.route().sni();
      if (routeSni == null) {
        if (any == null) {
          any = r;
        }
      } else if (name == null) {
        continue;
      } else if (routeSni.equalsIgnoreCase(name)) {
        return r;
      } else if (routeSni.length() > wildcardLength && covers(routeSni, name)) {
        byWildcard = r;
        wildcardLength = routeSni.length();
      }
    }
    return byWildcard != null ? byWildcard : any;
  }

  /**
   * Whether {@code wildcard} ({@code *.suffix}) covers {@code name} (lower case): the name ends in
   * {@code .suffix} with at least one label before it.
   */
  static boolean covers(String wildcard, String name) {
    if (!wildcard.startsWith("*.")) {
      return false;
    }
    int suffix = wildcard.length() - 1; // ".suffix"
    return name.length() > suffix
        && name.charAt(name.length() - suffix - 1) != '.'
        && name.regionMatches(true, name.length() - suffix, wildcard, 1, suffix);
  }

  List<CompiledStream> all() {
    return routes;
  }
}
