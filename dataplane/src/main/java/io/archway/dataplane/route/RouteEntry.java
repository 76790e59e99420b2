package io.archway.dataplane.route;

import io.archway.model.Route;
import io.archway.model.Vars;
import java.util.List;

/**
 * One route compiled for matching: methods as a bit set, address ranges parsed, vars compiled. It
 * carries {@code target}, the caller's runtime form of the route. Built once per route change and
 * reused by every router built while the route stays the same.
 */
public final class RouteEntry<T> {

  private final String id;
  private final Route route;
  private final T target;
  private final int priority;
  private final int methods;
  private final Cidr[] remoteAddrs;
  private final VarsMatcher vars;
  // The vars before the body is read, for a route whose vars name it (post_arg.*); else null.
  private final BodyTerms.Head head;
  private final List<String> hosts;
  private final boolean rawPath;

  /**
   * @param hosts the hosts the route answers for: its own, else its service's; empty for any host
   */
  public RouteEntry(String id, Route route, List<String> hosts, T target) {
    this.id = id;
    this.route = route;
    this.target = target;
    this.priority = route.priorityOrDefault();
    this.hosts = hosts;
    this.rawPath = Boolean.TRUE.equals(route.rawPath());
    int mask = 0;
    if (route.methods() != null) {
      for (var m : route.methods()) {
        mask |= 1 << Route.METHODS.indexOf(m);
      }
    }
    this.methods = mask;
    var addrs =
        route.remoteAddr() != null
            ? List.of(route.remoteAddr())
            : route.remoteAddrs() == null ? List.<String>of() : route.remoteAddrs();
    this.remoteAddrs = addrs.stream().map(Cidr::parse).toArray(Cidr[]::new);
    var expr = route.vars() == null || route.vars().isEmpty() ? null : Vars.parse(route.vars());
    this.vars = expr == null ? null : VarsMatcher.compile(expr);
    this.head = expr != null && Vars.readsBody(expr) ? BodyTerms.head(expr) : null;
  }

  /** Whether the route's vars name the request body: it may be decided only once that is read. */
  public boolean readsBody() {
    return head != null;
  }

  public String id() {
    return id;
  }

  Route route() {
    return route;
  }

  public T target() {
    return target;
  }

  int priority() {
    return priority;
  }

  /** Whether the route's plugins and upstream see the path as received ({@code raw_path}). */
  boolean rawPath() {
    return rawPath;
  }

  List<String> hosts() {
    return hosts;
  }

  /** Whether everything but host and path matches. */
  boolean matches(RequestVars r) {
    if (methods != 0) {
      int i = Route.METHODS.indexOf(r.method());
      if (i < 0 || (methods & (1 << i)) == 0) {
        return false;
      }
    }
    if (remoteAddrs.length > 0) {
      var a = r.remoteAddress();
      boolean any = false;
      for (var c : remoteAddrs) {
        if (c.contains(a)) {
          any = true;
          break;
        }
      }
      if (!any) {
        return false;
      }
    }
    if (vars == null) {
      return true;
    }
    if (head != null && !r.bodyKnown()) {
      int h = head.test(r);
      if (h == BodyTerms.UNKNOWN) {
        // The body decides this route, and every route after it waits for that: the search
        // stops here, and the caller reads the body and matches again (Router.match).
        r.awaitBody();
        return true;
      }
      return h == BodyTerms.YES;
    }
    return vars.matches(r);
  }
}
