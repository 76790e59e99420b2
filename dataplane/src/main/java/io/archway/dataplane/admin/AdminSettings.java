package io.archway.dataplane.admin;

import java.time.Duration;
import java.util.List;

/**
 * The Admin API's listener and keys ({@code --admin-port}, {@code --admin-address}, {@code
 * --admin-key}, {@code --viewer-key}, {@code --admin-allow}, {@code --admin-persist}, {@code
 * --admin-apply-timeout}, {@code --admin-allow-origin}, {@code --admin-allow-host}).
 *
 * @param enabled whether the admin port is opened at all ({@code --admin-port off} closes it)
 * @param address where it binds (loopback by default)
 * @param port its port ({@code 0}: any free port, for tests)
 * @param adminKey the key of the {@code admin} role (read and write), or {@code null}
 * @param viewerKey the key of the {@code viewer} role (read only), or {@code null}
 * @param allow CIDRs clients must come from (APISIX's {@code allow_admin}); empty: any
 * @param persist in standalone mode, write every change back to the standalone file
 * @param dataPort also serve {@code /apisix/admin} on the HTTP port, as APISIX 2.x did (a
 *     connection whose first request is for it becomes an admin connection)
 * @param applyTimeout with {@code --etcd}, how long a write's answer waits for this node to serve
 *     it (read-your-writes); past it the answer goes out with {@code X-Archway-Applied: false}
 * @param allowOrigins browser origins ({@code Origin}) allowed besides the listener's own ({@code
 *     *}: any); see {@link AdminBrowserCheck}
 * @param allowHosts {@code Host} names allowed besides loopback names, IP addresses and the
 *     listener's address ({@code *}: any)
 */
public record AdminSettings(
    boolean enabled,
    String address,
    int port,
    String adminKey,
    String viewerKey,
    List<String> allow,
    boolean persist,
    boolean dataPort,
    Duration applyTimeout,
    List<String> allowOrigins,
    List<String> allowHosts) {

  public static final int DEFAULT_PORT = 9180;
  public static final String DEFAULT_ADDRESS = "127.0.0.1";
  public static final Duration DEFAULT_APPLY_TIMEOUT = Duration.ofSeconds(5);

  /** The command line's defaults: on, on loopback, port 9180, no key. */
  public static final AdminSettings DEFAULTS =
      new AdminSettings(true, DEFAULT_ADDRESS, DEFAULT_PORT, null, null, List.of(), false, false);

  /** No admin port (what tests and tools get unless they ask for one). */
  public static final AdminSettings DISABLED =
      new AdminSettings(false, DEFAULT_ADDRESS, DEFAULT_PORT, null, null, List.of(), false, false);

  public AdminSettings {
    allow = List.copyOf(allow);
    allowOrigins = allowOrigins == null ? List.of() : List.copyOf(allowOrigins);
    allowHosts = allowHosts == null ? List.of() : List.copyOf(allowHosts);
    if (applyTimeout == null || applyTimeout.isNegative()) {
      applyTimeout = DEFAULT_APPLY_TIMEOUT;
    }
    adminKey = blankToNull(adminKey);
    viewerKey = blankToNull(viewerKey);
  }

  /** With the default apply timeout. */
  public AdminSettings(
      boolean enabled,
      String address,
      int port,
      String adminKey,
      String viewerKey,
      List<String> allow,
      boolean persist,
      boolean dataPort) {
    this(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        DEFAULT_APPLY_TIMEOUT,
        List.of(),
        List.of());
  }

  /** On loopback, any free port, with these keys: for tests. */
  public static AdminSettings onLoopback(String adminKey, String viewerKey, boolean persist) {
    return new AdminSettings(
        true, DEFAULT_ADDRESS, 0, adminKey, viewerKey, List.of(), persist, false);
  }

  /** On ({@code port}) or off ({@code enabled} false, the port kept). */
  public AdminSettings withPort(boolean enabled, int port) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  public AdminSettings withAddress(String address) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  /** The keys; a {@code null} leaves that key as it is. */
  public AdminSettings withKeys(String adminKey, String viewerKey) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey == null ? this.adminKey : adminKey,
        viewerKey == null ? this.viewerKey : viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  public AdminSettings withAllow(List<String> allow) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  public AdminSettings withPersist(boolean persist) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  public AdminSettings withDataPort(boolean dataPort) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  /** How long a write's answer waits for this node to serve it ({@code 0}: not at all). */
  public AdminSettings withApplyTimeout(Duration applyTimeout) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  /** Browser origins allowed besides the listener's own. */
  public AdminSettings withAllowOrigins(List<String> allowOrigins) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  /** {@code Host} names allowed besides loopback names, addresses and the listener's address. */
  public AdminSettings withAllowHosts(List<String> allowHosts) {
    return new AdminSettings(
        enabled,
        address,
        port,
        adminKey,
        viewerKey,
        allow,
        persist,
        dataPort,
        applyTimeout,
        allowOrigins,
        allowHosts);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
