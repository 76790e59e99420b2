package io.archway.dataplane.config;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The stream routes in force, in the order they are tried: most conditions first (a route for one
 * client range before the catch-all of its port), then by id, so the choice never depends on the
 * order the config was read in.
 */
public final class StreamRoutes {

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

  /** The route for a connection, or {@code null}. */
  public CompiledStream match(int serverPort, InetAddress client, InetAddress local) {
    for (var r : routes) {
      if (r.matches(serverPort, client, local)) {
        return r;
      }
    }
    return null;
  }

  /**
   * The route for a TLS passthrough connection that asked for {@code sni} ({@code null}: none):
   * among the routes matching as {@link #match} does, the one whose {@code sni} is the name
   * exactly, then one whose {@code *.} wildcard covers it one label deep, then one without {@code
   * sni}; else {@code null}.
   */
  public CompiledStream matchSni(
      int serverPort, String sni, InetAddress client, InetAddress local) {
    var name = sni == null ? null : sni.toLowerCase(java.util.Locale.ROOT);
    if (name != null && name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    int dot = name == null ? -1 : name.indexOf('.');
    var wildcard = dot > 0 ? "*" + name.substring(dot) : null;
    CompiledStream byWildcard = null;
    CompiledStream any = null;
    for (var r : routes) {
      if (!r.matches(serverPort, client, local)) {
        continue;
      }
      var routeSni = r.route().sni();
      if (routeSni == null) {
        if (any == null) {
          any = r;
        }
      } else if (name != null && routeSni.equalsIgnoreCase(name)) {
        return r;
      } else if (wildcard != null && byWildcard == null && routeSni.equalsIgnoreCase(wildcard)) {
        byWildcard = r;
      }
    }
    return byWildcard != null ? byWildcard : any;
  }

  public List<CompiledStream> all() {
    return routes;
  }
}
