package io.archway.dataplane.admin;

import io.netty.util.NetUtil;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Keeps browsers from being used against the Admin API (and the Studio beside it), as Jupyter and
 * Vite's dev server do:
 *
 * <ul>
 *   <li>a request whose {@code Host} is a name other than {@code localhost}, the listener's address
 *       or one allowed ({@code --admin-allow-host}) is refused: a DNS-rebinding page (its own name
 *       pointed at 127.0.0.1 after it loaded) reaches the port with its own name as {@code Host},
 *       and could otherwise read and write as a same-origin page. IP addresses are always fine: a
 *       rebinding needs a name. With a key configured and no {@code --admin-allow-host}, any {@code
 *       Host} is accepted: a rebinding page cannot know the key, and scripts that reach the port by
 *       a DNS name keep working;
 *   <li>a request with an {@code Origin} other than the listener's own ({@code http://} or {@code
 *       https://} and the request's {@code Host}) or one allowed ({@code --admin-allow-origin}) is
 *       refused: any page an operator visits can send a "simple" cross-site {@code POST} (no
 *       preflight, {@code text/plain}) to a loopback port. Browsers send {@code Origin} with every
 *       cross-origin request and every {@code POST}, {@code PUT}, {@code PATCH} and {@code DELETE};
 *       curl and scripts send none and are not affected.
 * </ul>
 *
 * The content type of a write is not checked: APISIX does not, and {@code curl -d}, which its
 * documented commands use, sends {@code application/x-www-form-urlencoded}.
 */
final class AdminBrowserCheck {

  private final Set<String> hosts = new HashSet<>();
  private final boolean anyHost;
  private final Set<String> origins = new HashSet<>();
  private final boolean anyOrigin;

  AdminBrowserCheck(AdminSettings settings) {
    hosts.add("localhost");
    hosts.add(settings.address().toLowerCase(Locale.ROOT));
    settings.allowHosts().forEach(h -> hosts.add(h.strip().toLowerCase(Locale.ROOT)));
    boolean keyed = settings.adminKey() != null || settings.viewerKey() != null;
    anyHost = hosts.contains("*") || (keyed && settings.allowHosts().isEmpty());
    settings.allowOrigins().forEach(o -> origins.add(normalOrigin(o.strip())));
    anyOrigin = settings.allowOrigins().stream().anyMatch(o -> o.strip().equals("*"));
  }

  /** Why a request with these headers is refused (a 403's message), or {@code null}. */
  String refusal(String host, String origin) {
    if (host != null && !hostAllowed(host)) {
      return "host not allowed: " + host + " (see --admin-allow-host)";
    }
    if (origin != null && !originAllowed(origin, host)) {
      return "origin not allowed: " + origin + " (see --admin-allow-origin)";
    }
    return null;
  }

  private boolean hostAllowed(String host) {
    if (anyHost) {
      return true;
    }
    var name = hostName(host);
    return name != null
        && (NetUtil.isValidIpV4Address(name)
            || NetUtil.isValidIpV6Address(name)
            || hosts.contains(name));
  }

  private boolean originAllowed(String origin, String host) {
    if (anyOrigin) {
      return true;
    }
    var o = normalOrigin(origin);
    if (origins.contains(o)) {
      return true;
    }
    if (host == null) {
      return false;
    }
    var h = host.strip().toLowerCase(Locale.ROOT);
    return o.equals(normalOrigin("http://" + h)) || o.equals(normalOrigin("https://" + h));
  }

  /** The name or address in {@code Host}, without its port or brackets; {@code null} if bad. */
  static String hostName(String host) {
    var h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? null : h.substring(1, end);
    }
    int colon = h.indexOf(':');
    if (colon >= 0 && h.indexOf(':', colon + 1) < 0) {
      h = h.substring(0, colon);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h.isEmpty() ? null : h;
  }

  /** Lower case, without a trailing slash or the scheme's default port. */
  static String normalOrigin(String origin) {
    var o = origin.toLowerCase(Locale.ROOT);
    if (o.endsWith("/")) {
      o = o.substring(0, o.length() - 1);
    }
    for (var d : List.of("http://:80", "https://:443")) {
      var scheme = d.substring(0, d.indexOf("//") + 2);
      var port = d.substring(d.lastIndexOf(':'));
      if (o.startsWith(scheme) && o.endsWith(port)) {
        o = o.substring(0, o.length() - port.length());
      }
    }
    return o;
  }
}
