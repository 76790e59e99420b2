package io.archway.operator.translate;

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
      // A bare number is seconds (the controller's schema has an integer here); a string is a
      // duration.
      var seconds =
          a.timeout.getIntVal() != null ? a.timeout.getIntVal() + "s" : a.timeout.getStrVal();
      if (seconds != null && seconds.matches("[0-9]+(\\.[0-9]+)?")) {
        seconds = seconds + "s";
      }
      Upstreams.putSeconds(active, "timeout", seconds, where + ".active", at, t);
    }
    if (a.concurrency != null) {
      active.put("concurrency", a.concurrency);
    }
    if (a.host != null) {
      active.put("host", a.host);
    }
    if (a.port != null) {
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
    if (h.successes != null) {
      out.put("successes", h.successes);
    }
    return out;
  }

  private static ObjectNode unhealthy(PassiveUnhealthy u, String where, String at, Translation t) {
    var out = JsonNodeFactory.instance.objectNode();
    codes(out, u.httpCodes);
    if (u.httpFailures != null) {
      out.put("http_failures", u.httpFailures);
    }
    if (u.tcpFailures != null) {
      out.put("tcp_failures", u.tcpFailures);
    }
    if (u.timeouts != null && u.timeout != null && !u.timeouts.equals(u.timeout)) {
      t.error(
          at,
          where
              + ".timeout: "
              + u.timeout
              + " and timeouts: "
              + u.timeouts
              + " differ (expected: one of them; timeout is the controller's name for timeouts)");
    }
    var timeouts = u.timeouts != null ? u.timeouts : u.timeout;
    if (timeouts != null) {
      out.put("timeouts", timeouts);
    }
    return out;
  }

  private static void codes(ObjectNode out, List<Integer> codes) {
    if (codes != null && !codes.isEmpty()) {
      var arr = out.putArray("http_statuses");
      codes.forEach(arr::add);
    }
  }
}
