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

  public List<CompiledStream> all() {
    return routes;
  }
}
