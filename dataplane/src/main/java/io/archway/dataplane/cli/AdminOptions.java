package io.archway.dataplane.cli;

import static io.archway.dataplane.cli.Values.sorted;
import static io.archway.dataplane.cli.Values.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.admin.AdminSettings;
import io.archway.dataplane.route.Cidr;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The Admin API's settings: {@code --admin-port N|off}, {@code --admin-address}, {@code
 * --admin-key}, {@code --viewer-key}, {@code --admin-allow}, {@code --admin-persist}, and the
 * {@code admin:} section of the {@code --config} file ({@code port}, {@code address}, {@code key},
 * {@code viewer_key}, {@code allow}, {@code persist}).
 */
final class AdminOptions {

  private static final Set<String> FIELDS =
      Set.of("port", "address", "key", "viewer_key", "allow", "persist");

  private AdminOptions() {}

  static AdminSettings apply(AdminSettings a, DataplaneCommand c) throws UsageException {
    if (c.adminPort != null) {
      a = port(a, "--admin-port", c.adminPort);
    }
    if (c.adminAddress != null) {
      a =
          with(
              a,
              a.enabled(),
              c.adminAddress,
              a.port(),
              a.adminKey(),
              a.viewerKey(),
              a.allow(),
              a.persist());
    }
    if (c.adminKey != null) {
      a =
          with(
              a,
              a.enabled(),
              a.address(),
              a.port(),
              c.adminKey,
              a.viewerKey(),
              a.allow(),
              a.persist());
    }
    if (c.viewerKey != null) {
      a =
          with(
              a,
              a.enabled(),
              a.address(),
              a.port(),
              a.adminKey(),
              c.viewerKey,
              a.allow(),
              a.persist());
    }
    if (c.adminAllow != null) {
      a =
          with(
              a,
              a.enabled(),
              a.address(),
              a.port(),
              a.adminKey(),
              a.viewerKey(),
              cidrs("--admin-allow", List.of(c.adminAllow.split(","))),
              a.persist());
    }
    if (c.adminPersist) {
      a = with(a, a.enabled(), a.address(), a.port(), a.adminKey(), a.viewerKey(), a.allow(), true);
    }
    return a;
  }

  static AdminSettings read(Path file, JsonNode v, AdminSettings a) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file + ": admin: expected a mapping (" + String.join(", ", sorted(FIELDS)) + ")");
    }
    for (var e : v.properties()) {
      var at = file + ": admin." + e.getKey();
      var value = e.getValue();
      a =
          switch (e.getKey()) {
            case "port" ->
                // YAML reads a bare off as false.
                port(a, at, value.isBoolean() && !value.booleanValue() ? "off" : value.asText());
            case "address" ->
                with(
                    a,
                    a.enabled(),
                    text(at, value),
                    a.port(),
                    a.adminKey(),
                    a.viewerKey(),
                    a.allow(),
                    a.persist());
            case "key" ->
                with(
                    a,
                    a.enabled(),
                    a.address(),
                    a.port(),
                    text(at, value),
                    a.viewerKey(),
                    a.allow(),
                    a.persist());
            case "viewer_key" ->
                with(
                    a,
                    a.enabled(),
                    a.address(),
                    a.port(),
                    a.adminKey(),
                    text(at, value),
                    a.allow(),
                    a.persist());
            case "allow" -> {
              if (!value.isArray()) {
                throw new UsageException(at + ": expected a list of CIDRs");
              }
              var list = new ArrayList<String>();
              value.forEach(n -> list.add(n.asText()));
              yield with(
                  a,
                  a.enabled(),
                  a.address(),
                  a.port(),
                  a.adminKey(),
                  a.viewerKey(),
                  cidrs(at, list),
                  a.persist());
            }
            case "persist" -> {
              if (!value.isBoolean()) {
                throw new UsageException(at + ": " + value + " (expected: true or false)");
              }
              yield with(
                  a,
                  a.enabled(),
                  a.address(),
                  a.port(),
                  a.adminKey(),
                  a.viewerKey(),
                  a.allow(),
                  value.booleanValue());
            }
            default ->
                throw new UsageException(
                    at
                        + ": unknown setting (expected one of: "
                        + String.join(", ", sorted(FIELDS))
                        + ")");
          };
    }
    return a;
  }

  private static AdminSettings port(AdminSettings a, String at, String v) throws UsageException {
    if (v.equals("off")) {
      return with(
          a, false, a.address(), a.port(), a.adminKey(), a.viewerKey(), a.allow(), a.persist());
    }
    return with(
        a,
        true,
        a.address(),
        Values.port(at, v),
        a.adminKey(),
        a.viewerKey(),
        a.allow(),
        a.persist());
  }

  private static List<String> cidrs(String at, List<String> raw) throws UsageException {
    var out = new ArrayList<String>();
    for (var r : raw) {
      var s = r.strip();
      try {
        Cidr.parse(s);
      } catch (IllegalArgumentException e) {
        throw new UsageException(
            at + ": \"" + s + "\" (expected: an address or CIDR, e.g. 10.0.0.0/8)");
      }
      out.add(s);
    }
    return out;
  }

  private static AdminSettings with(
      AdminSettings a,
      boolean enabled,
      String address,
      int port,
      String adminKey,
      String viewerKey,
      List<String> allow,
      boolean persist) {
    return new AdminSettings(enabled, address, port, adminKey, viewerKey, allow, persist);
  }
}
