package io.archway.dataplane.cli;

import static io.archway.dataplane.cli.Values.seconds;
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
 * --admin-key}, {@code --viewer-key}, {@code --admin-allow}, {@code --admin-persist}, {@code
 * --admin-on-http-port}, {@code --admin-apply-timeout}, {@code --admin-allow-origin}, {@code
 * --admin-allow-host}, and the {@code admin:} section of the {@code --config} file ({@code port},
 * {@code address}, {@code key}, {@code viewer_key}, {@code allow}, {@code persist}, {@code
 * on_http_port}, {@code apply_timeout}, {@code allow_origins}, {@code allow_hosts}).
 */
final class AdminOptions {

  private static final Set<String> FIELDS =
      Set.of(
          "port",
          "address",
          "key",
          "viewer_key",
          "allow",
          "persist",
          "on_http_port",
          "apply_timeout",
          "allow_origins",
          "allow_hosts");

  private AdminOptions() {}

  /** The defaults with the keys from {@code ARCHWAY_ADMIN_KEY} and {@code ARCHWAY_VIEWER_KEY}. */
  static AdminSettings defaults() {
    return AdminSettings.DEFAULTS.withKeys(
        System.getenv("ARCHWAY_ADMIN_KEY"), System.getenv("ARCHWAY_VIEWER_KEY"));
  }

  static AdminSettings apply(AdminSettings a, DataplaneCommand c) throws UsageException {
    if (c.adminPort != null) {
      a = port(a, "--admin-port", c.adminPort);
    }
    if (c.adminAddress != null) {
      a = a.withAddress(c.adminAddress);
    }
    a = a.withKeys(c.adminKey, c.viewerKey);
    if (c.adminAllow != null) {
      a = a.withAllow(cidrs("--admin-allow", List.of(c.adminAllow.split(","))));
    }
    if (c.adminPersist) {
      a = a.withPersist(true);
    }
    if (c.adminOnHttpPort) {
      a = a.withDataPort(true);
    }
    if (c.adminAllowOrigins != null) {
      a = a.withAllowOrigins(c.adminAllowOrigins);
    }
    if (c.adminAllowHosts != null) {
      a = a.withAllowHosts(c.adminAllowHosts);
    }
    if (c.adminApplyTimeout != null) {
      a = a.withApplyTimeout(seconds("--admin-apply-timeout", c.adminApplyTimeout));
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
            // YAML reads a bare off as false.
            case "port" ->
                port(a, at, value.isBoolean() && !value.booleanValue() ? "off" : value.asText());
            case "address" -> a.withAddress(text(at, value));
            case "key" -> a.withKeys(text(at, value), null);
            case "viewer_key" -> a.withKeys(null, text(at, value));
            case "allow" -> {
              if (!value.isArray()) {
                throw new UsageException(at + ": expected a list of CIDRs");
              }
              var list = new ArrayList<String>();
              value.forEach(n -> list.add(n.asText()));
              yield a.withAllow(cidrs(at, list));
            }
            case "persist" -> {
              if (!value.isBoolean()) {
                throw new UsageException(at + ": " + value + " (expected: true or false)");
              }
              yield a.withPersist(value.booleanValue());
            }
            case "on_http_port" -> {
              if (!value.isBoolean()) {
                throw new UsageException(at + ": " + value + " (expected: true or false)");
              }
              yield a.withDataPort(value.booleanValue());
            }
            case "apply_timeout" -> a.withApplyTimeout(seconds(at, value.asText()));
            case "allow_origins" -> a.withAllowOrigins(texts(at, value));
            case "allow_hosts" -> a.withAllowHosts(texts(at, value));
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
    return v.equals("off") ? a.withPort(false, a.port()) : a.withPort(true, Values.port(at, v));
  }

  private static List<String> texts(String at, JsonNode value) throws UsageException {
    if (!value.isArray()) {
      throw new UsageException(at + ": expected a list");
    }
    var list = new ArrayList<String>();
    value.forEach(n -> list.add(n.asText()));
    return list;
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
}
