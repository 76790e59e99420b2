package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Which listeners of a Gateway a route attaches to through one of its {@code parentRefs}, by the
 * Gateway API's rules, or the reason it attaches to none. Pure: the Gateway and the route's
 * Namespace are given.
 *
 * <p>The checks, in the order the spec's reasons are chosen:
 *
 * <ol>
 *   <li>{@link #refersTo}: the parentRef names this Gateway (group {@code
 *       gateway.networking.k8s.io}, kind {@code Gateway}, namespace defaulting to the route's);
 *   <li>the listeners selected by {@code sectionName} (listener name) and {@code port}: none is
 *       {@code NoMatchingParent};
 *   <li>of those, the ones whose protocol serves the route's kind (HTTPRoute: {@code HTTP}, {@code
 *       HTTPS}), whose {@code allowedRoutes.kinds} (when set) list it and whose {@code
 *       allowedRoutes.namespaces} ({@code Same} by default, {@code All}, {@code Selector} on the
 *       route's Namespace labels) admit the route: none is {@code NotAllowedByListeners};
 *   <li>of those, the ones whose hostname intersects the route's hostnames ({@link #intersect}):
 *       none is {@code NoMatchingListenerHostname}.
 * </ol>
 *
 * <p>A Gateway's listener statuses ({@code attachedRoutes}) count a route on each listener of
 * {@link Result#listeners()} of an accepted result.
 */
public final class ListenerAttachment {

  public static final String GROUP = "gateway.networking.k8s.io";

  /** The {@code Accepted} reasons of a route's parent status that attachment decides. */
  public static final String ACCEPTED = "Accepted";

  public static final String NO_MATCHING_PARENT = "NoMatchingParent";
  public static final String NOT_ALLOWED_BY_LISTENERS = "NotAllowedByListeners";
  public static final String NO_MATCHING_LISTENER_HOSTNAME = "NoMatchingListenerHostname";

  /**
   * A listener the route attaches to, and the hostnames its routes there serve: the intersection of
   * the route's and the listener's; empty for any host.
   */
  public record Attached(Listener listener, List<String> hostnames) {}

  /**
   * The outcome for one parentRef: the listeners attached to (empty when not accepted), and the
   * {@code Accepted} condition's reason and message.
   */
  public record Result(List<Attached> listeners, String reason, String message) {
    public boolean accepted() {
      return !listeners.isEmpty();
    }

    static Result refused(String reason, String message) {
      return new Result(List.of(), reason, message);
    }
  }

  private ListenerAttachment() {}

  /**
   * The route kinds a listener protocol serves when its {@code allowedRoutes.kinds} is not set (all
   * in group {@link #GROUP}).
   */
  public static List<String> defaultKinds(String protocol) {
    return switch (protocol == null ? "" : protocol) {
      case "HTTP", "HTTPS" -> List.of("HTTPRoute", "GRPCRoute");
      case "TLS" -> List.of("TLSRoute");
      case "TCP" -> List.of("TCPRoute");
      case "UDP" -> List.of("UDPRoute");
      default -> List.of();
    };
  }

  /**
   * Whether {@code ref}, of a route in {@code routeNamespace}, names {@code gateway}: group {@code
   * gateway.networking.k8s.io} and kind {@code Gateway} (the defaults), same name, same namespace
   * (the route's by default).
   */
  public static boolean refersTo(ParentReference ref, String routeNamespace, Gateway gateway) {
    var gm = gateway.getMetadata();
    return isGateway(ref)
        && gm.getName().equals(ref.getName())
        && gm.getNamespace().equals(namespace(ref, routeNamespace));
  }

  /** Whether {@code ref} is to a Gateway (rather than a Service, say: GAMMA). */
  public static boolean isGateway(ParentReference ref) {
    var group = ref.getGroup() == null ? GROUP : ref.getGroup();
    var kind = ref.getKind() == null ? "Gateway" : ref.getKind();
    return GROUP.equals(group) && "Gateway".equals(kind);
  }

  /** The namespace {@code ref} names: its own, else the route's. */
  public static String namespace(ParentReference ref, String routeNamespace) {
    return ref.getNamespace() == null || ref.getNamespace().isEmpty()
        ? routeNamespace
        : ref.getNamespace();
  }

  /**
   * The listeners of {@code gateway} a route attaches to through {@code ref}.
   *
   * @param routeKind {@code HTTPRoute}, {@code GRPCRoute}, {@code TLSRoute} ...
   * @param routeNamespace the route's namespace
   * @param routeHostnames the route's {@code spec.hostnames} (null or empty: any)
   * @param ref one of the route's parentRefs, to {@code gateway} ({@link #refersTo})
   * @param namespaces the Namespace of a name, for {@code allowedRoutes.namespaces.from: Selector}
   */
  public static Result attach(
      String routeKind,
      String routeNamespace,
      List<String> routeHostnames,
      ParentReference ref,
      Gateway gateway,
      Function<String, Optional<Namespace>> namespaces) {
    var gwName = gateway.getMetadata().getNamespace() + "/" + gateway.getMetadata().getName();
    var listeners =
        gateway.getSpec() == null || gateway.getSpec().getListeners() == null
            ? List.<Listener>of()
            : gateway.getSpec().getListeners();
    var selected = new ArrayList<Listener>();
    for (var l : listeners) {
      if (ref.getSectionName() != null && !ref.getSectionName().equals(l.getName())) {
        continue;
      }
      if (ref.getPort() != null && !ref.getPort().equals(l.getPort())) {
        continue;
      }
      selected.add(l);
    }
    if (selected.isEmpty()) {
      return Result.refused(
          NO_MATCHING_PARENT,
          "Gateway "
              + gwName
              + " has no listener"
              + (ref.getSectionName() == null ? "" : " named \"" + ref.getSectionName() + "\"")
              + (ref.getPort() == null ? "" : " on port " + ref.getPort()));
    }
    var allowed = new ArrayList<Listener>();
    for (var l : selected) {
      if (kindAllowed(routeKind, l) && namespaceAllowed(routeNamespace, gateway, l, namespaces)) {
        allowed.add(l);
      }
    }
    if (allowed.isEmpty()) {
      return Result.refused(
          NOT_ALLOWED_BY_LISTENERS,
          "no listener of Gateway "
              + gwName
              + " allows "
              + routeKind
              + "s from namespace "
              + routeNamespace);
    }
    var attached = new ArrayList<Attached>();
    for (var l : allowed) {
      intersect(routeHostnames, l.getHostname()).ifPresent(h -> attached.add(new Attached(l, h)));
    }
    if (attached.isEmpty()) {
      return Result.refused(
          NO_MATCHING_LISTENER_HOSTNAME,
          "no hostname of the route matches a listener hostname of Gateway " + gwName);
    }
    return new Result(List.copyOf(attached), ACCEPTED, "accepted by Gateway " + gwName);
  }

  /**
   * The names of the listeners of {@code gateway} that a route attaches to through any of its
   * {@code parentRefs} (those that {@link #refersTo} it): what the Gateway's listener statuses
   * count in {@code attachedRoutes} (once per route and listener).
   */
  public static java.util.Set<String> attachedListeners(
      String routeKind,
      String routeNamespace,
      List<String> routeHostnames,
      List<ParentReference> parentRefs,
      Gateway gateway,
      Function<String, Optional<Namespace>> namespaces) {
    var out = new java.util.LinkedHashSet<String>();
    if (parentRefs == null) {
      return out;
    }
    for (var ref : parentRefs) {
      if (ref != null && ref.getName() != null && refersTo(ref, routeNamespace, gateway)) {
        for (var a :
            attach(routeKind, routeNamespace, routeHostnames, ref, gateway, namespaces)
                .listeners()) {
          out.add(a.listener().getName());
        }
      }
    }
    return out;
  }

  /**
   * Whether listener {@code l} takes routes of {@code routeKind}: its protocol serves that kind,
   * and its {@code allowedRoutes.kinds}, when set, list it.
   */
  static boolean kindAllowed(String routeKind, Listener l) {
    if (!defaultKinds(l.getProtocol()).contains(routeKind)) {
      return false;
    }
    var ar = l.getAllowedRoutes();
    if (ar == null || ar.getKinds() == null || ar.getKinds().isEmpty()) {
      return true;
    }
    for (RouteGroupKind k : ar.getKinds()) {
      var group = k.getGroup() == null ? GROUP : k.getGroup();
      if (GROUP.equals(group) && routeKind.equals(k.getKind())) {
        return true;
      }
    }
    return false;
  }

  static boolean namespaceAllowed(
      String routeNamespace,
      Gateway gateway,
      Listener l,
      Function<String, Optional<Namespace>> namespaces) {
    var ar = l.getAllowedRoutes();
    var from =
        ar == null || ar.getNamespaces() == null || ar.getNamespaces().getFrom() == null
            ? "Same"
            : ar.getNamespaces().getFrom();
    return switch (from) {
      case "All" -> true;
      case "Same" -> routeNamespace.equals(gateway.getMetadata().getNamespace());
      case "Selector" -> {
        var ns = namespaces.apply(routeNamespace);
        yield ns.isPresent()
            && matches(ar.getNamespaces().getSelector(), ns.get().getMetadata().getLabels());
      }
      default -> false;
    };
  }

  /**
   * Whether {@code labels} match {@code selector} ({@code matchLabels} and {@code
   * matchExpressions}: In, NotIn, Exists, DoesNotExist). A missing selector matches nothing: the
   * spec makes it required with {@code from: Selector}.
   */
  static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    var have = labels == null ? Map.<String, String>of() : labels;
    if (selector.getMatchLabels() != null) {
      for (var e : selector.getMatchLabels().entrySet()) {
        if (!e.getValue().equals(have.get(e.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (var r : selector.getMatchExpressions()) {
        var value = have.get(r.getKey());
        var values = r.getValues() == null ? List.<String>of() : r.getValues();
        boolean ok =
            switch (r.getOperator()) {
              case "In" -> value != null && values.contains(value);
              case "NotIn" -> value == null || !values.contains(value);
              case "Exists" -> have.containsKey(r.getKey());
              case "DoesNotExist" -> !have.containsKey(r.getKey());
              default -> false;
            };
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * The hostnames a route serves on a listener: the intersection of the route's {@code hostnames}
   * and the listener's {@code hostname}, by the Gateway API's rules. Empty (present) for any host
   * (neither side has one); the listener's when the route has none; the route's when the listener
   * has none; otherwise each pair that matches gives the more specific of the two ({@code
   * foo.example.com} and {@code *.example.com} give {@code foo.example.com}; {@code *.example.com}
   * and {@code *.foo.example.com} give {@code *.foo.example.com}). Not present when no pair
   * matches: the route does not attach there.
   *
   * <p>A wildcard {@code *.example.com} matches any number of labels before {@code .example.com}
   * ({@code a.b.example.com}), and not {@code example.com} itself. Comparison ignores case.
   */
  public static Optional<List<String>> intersect(List<String> routeHostnames, String listener) {
    boolean anyRoute = routeHostnames == null || routeHostnames.isEmpty();
    if (listener == null || listener.isEmpty()) {
      return Optional.of(anyRoute ? List.of() : lower(routeHostnames));
    }
    var l = listener.toLowerCase(Locale.ROOT);
    if (anyRoute) {
      return Optional.of(List.of(l));
    }
    var out = new LinkedHashSet<String>();
    for (var h : lower(routeHostnames)) {
      if (covers(l, h)) {
        out.add(h);
      } else if (covers(h, l)) {
        out.add(l);
      }
    }
    return out.isEmpty() ? Optional.empty() : Optional.of(List.copyOf(out));
  }

  /** Whether every host {@code specific} matches is matched by {@code general}. */
  private static boolean covers(String general, String specific) {
    if (general.equals(specific)) {
      return true;
    }
    if (!general.startsWith("*.")) {
      return false;
    }
    var suffix = general.substring(1);
    // The wildcard needs at least one label of its own: *.example.com does not match example.com.
    return specific.endsWith(suffix) && specific.length() > suffix.length();
  }

  private static List<String> lower(List<String> hosts) {
    return hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).distinct().toList();
  }
}
