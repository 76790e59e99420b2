package io.archway.operator.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.Enums;
import io.archway.crds.apisix.ApisixUpstreamSpec.HealthCheck;
import io.archway.crds.apisix.ApisixUpstreamSpec.PassiveHealthy;
import io.archway.crds.apisix.ApisixUpstreamSpec.PassiveUnhealthy;
import java.util.List;

/** An ApisixUpstream's {@code healthCheck} as APISIX's {@code checks}. */
final class HealthCheckMapper {

  private HealthCheckMapper() {}

  static ObjectNode checks(HealthCheck hc, String where, String at, Translation t) {
    var out = JsonNodeFactory.instance.objectNode();
    if (hc.active == null) {
      t.error(at, where + ".active: missing (expected: active checks; passive ones need them)");
      return null;
    }
    var a = hc.active;
    var active = out.putObject("active");
    type(a.type, active, where + ".active", at, t);
    if (a.timeout != null) {
      activeTimeout(active, a.timeout, where + ".active", at, t);
    }
    if (a.concurrency != null) {
      active.put("concurrency", a.concurrency);
    }
    if (a.host != null) {
      active.put("host", a.host);
    }
    if (a.port != null && a.port != 0) {
      // 0 is the controller's unset value (omitempty): the node's port.
      active.put("port", a.port);
    }
    if (a.httpPath != null) {
      active.put("http_path", a.httpPath);
    }
    if (a.strictTLS != null) {
      active.put("https_verify_certificate", a.strictTLS);
    }
    if (a.requestHeaders != null && !a.requestHeaders.isEmpty()) {
      var h = active.putArray("req_headers");
      a.requestHeaders.forEach(h::add);
    }
    if (a.healthy != null) {
      var healthy = healthy(a.healthy);
      interval(healthy, a.healthy.interval, where + ".active.healthy", at, t);
      active.set("healthy", healthy);
    }
    if (a.unhealthy != null) {
      var unhealthy = unhealthy(a.unhealthy, where + ".active.unhealthy", at, t);
      interval(unhealthy, a.unhealthy.interval, where + ".active.unhealthy", at, t);
      active.set("unhealthy", unhealthy);
    }
    if (hc.passive != null) {
      var p = hc.passive;
      var passive = out.putObject("passive");
      type(p.type, passive, where + ".passive", at, t);
      if (p.healthy != null) {
        passive.set("healthy", healthy(p.healthy));
      }
      if (p.unhealthy != null) {
        passive.set("unhealthy", unhealthy(p.unhealthy, where + ".passive.unhealthy", at, t));
      }
    }
    return out;
  }

  private static void type(String type, ObjectNode out, String where, String at, Translation t) {
    if (type == null) {
      return;
    }
    if (!Enums.isOneOf(Enums.HealthCheckType.class, type)) {
      t.error(at, where + ".type: " + Exprs.show(type) + " (expected: http, https or tcp)");
    }
    out.put("type", type);
  }

  /** Active intervals are whole seconds in APISIX; shorter ones round up to 1. */
  private static void interval(
      ObjectNode out, String value, String where, String at, Translation t) {
    if (value == null) {
      return;
    }
    var tmp = JsonNodeFactory.instance.objectNode();
    Upstreams.putSeconds(tmp, "interval", value, where, at, t);
    if (tmp.has("interval")) {
      out.put("interval", Math.max(1, (int) Math.ceil(tmp.get("interval").asDouble())));
    }
  }

  private static ObjectNode healthy(PassiveHealthy h) {
    var out = JsonNodeFactory.instance.objectNode();
    codes(out, h.httpCodes);
    if (positive(h.successes)) {
      out.put("successes", h.successes);
    }
    return out;
  }

  private static ObjectNode unhealthy(PassiveUnhealthy u, String where, String at, Translation t) {
    var out = JsonNodeFactory.instance.objectNode();
    codes(out, u.httpCodes);
    if (positive(u.httpFailures)) {
      out.put("http_failures", u.httpFailures);
    }
    if (positive(u.tcpFailures)) {
      out.put("tcp_failures", u.tcpFailures);
    }
    // Zero is the controller's unset value (its fields are omitempty): APISIX's default.
    var timeoutsSet = positive(u.timeouts) ? u.timeouts : null;
    var timeoutSet = positive(u.timeout) ? u.timeout : null;
    if (timeoutsSet != null && timeoutSet != null && !timeoutsSet.equals(timeoutSet)) {
      t.error(
          at,
          where
              + ".timeout: "
              + u.timeout
              + " and timeouts: "
              + u.timeouts
              + " differ (expected: one of them; timeout is the controller's name for timeouts)");
    }
    var timeouts = timeoutsSet != null ? timeoutsSet : timeoutSet;
    if (timeouts != null) {
      out.put("timeouts", timeouts);
    }
    return out;
  }

  /**
   * {@code active.timeout}: the APISIX Ingress Controller's schema has a Go {@code time.Duration}
   * here, an integer of nanoseconds, which it truncates to whole seconds (0, its unset value,
   * leaves APISIX's default). Integers of at least one second's worth of nanoseconds mean just
   * that. Smaller integers were already read as seconds by Archway (manifests write {@code timeout:
   * 5} meaning five seconds; the controller would send 0 and so APISIX's default of 1s), and still
   * are. A string is a duration such as {@code 5s}.
   */
  private static void activeTimeout(
      ObjectNode active, JsonNode value, String where, String at, Translation t) {
    if (value.isNull()) {
      return;
    }
    if (value.isIntegralNumber()) {
      long v = value.longValue();
      if (v == 0) {
        return;
      }
      if (v >= 1_000_000_000L) {
        // Truncated to whole seconds, as the controller does (int(d.Seconds())).
        active.put("timeout", v / 1_000_000_000L);
        return;
      }
      Upstreams.putSeconds(active, "timeout", v + "s", where, at, t);
      return;
    }
    var s = value.isTextual() ? value.textValue() : value.toString();
    if (s.matches("[0-9]+(\\.[0-9]+)?")) {
      s = s + "s";
    }
    Upstreams.putSeconds(active, "timeout", s, where, at, t);
  }

  private static boolean positive(Integer n) {
    return n != null && n != 0;
  }

  private static void codes(ObjectNode out, List<Integer> codes) {
    if (codes != null && !codes.isEmpty()) {
      var arr = out.putArray("http_statuses");
      codes.forEach(arr::add);
    }
  }
}
