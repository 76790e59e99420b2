package io.archway.dataplane.admin;

import io.archway.dataplane.route.Cidr;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * Who may call the Admin API: the client's address against {@code allow_admin}, then the key
 * ({@code X-API-KEY} or {@code ?api_key=}) against the admin and viewer keys, compared in constant
 * time so that the time taken says nothing about how much of a guess was right.
 */
final class AdminAuth {

  /** The outcome: a role, or the status and message to refuse with. */
  record Decision(AdminRequest.Role role, int status, String message) {
    boolean allowed() {
      return role != null;
    }
  }

  private final byte[] adminKey;
  private final byte[] viewerKey;
  private final List<Cidr> allow;
  private final AdminBrowserCheck browser;

  AdminAuth(AdminSettings settings) {
    this.browser = new AdminBrowserCheck(settings);
    this.adminKey = bytes(settings.adminKey());
    this.viewerKey = bytes(settings.viewerKey());
    this.allow = settings.allow().stream().map(Cidr::parse).toList();
  }

  /** Whether a key is configured at all (without one, only loopback may be bound). */
  boolean keyed() {
    return adminKey != null || viewerKey != null;
  }

  boolean allows(InetAddress client) {
    if (allow.isEmpty()) {
      return true;
    }
    for (var c : allow) {
      if (c.contains(client)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why a request with this {@code Host} and {@code Origin} is refused, or {@code null} (see {@link
   * AdminBrowserCheck}).
   */
  String browserRefusal(String host, String origin) {
    return browser.refusal(host, origin);
  }

  /** The role {@code key} gives; with no key configured every caller is admin (loopback only). */
  Decision check(String key, boolean writes) {
    AdminRequest.Role role;
    if (!keyed()) {
      role = AdminRequest.Role.ADMIN;
    } else if (key == null || key.isEmpty()) {
      return new Decision(null, 401, "missing apikey");
    } else {
      var given = key.getBytes(StandardCharsets.UTF_8);
      // Both comparisons run whatever the first gives, so the time does not tell which matched.
      boolean admin = adminKey != null && MessageDigest.isEqual(given, adminKey);
      boolean viewer = viewerKey != null && MessageDigest.isEqual(given, viewerKey);
      if (admin) {
        role = AdminRequest.Role.ADMIN;
      } else if (viewer) {
        role = AdminRequest.Role.VIEWER;
      } else {
        return new Decision(null, 401, "wrong apikey");
      }
    }
    if (writes && role == AdminRequest.Role.VIEWER) {
      return new Decision(null, 403, "the viewer role can only read (expected: the admin key)");
    }
    return new Decision(role, 200, null);
  }

  private static byte[] bytes(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }
}
