package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.Enums;
import io.archway.crds.archway.StreamRoute;
import io.archway.model.Kind;
import java.util.HashMap;
import java.util.List;

/**
 * A StreamRoute as {@code stream_routes/sr_<namespace>_<name>} (one per remote address when there
 * are several: APISIX's stream routes match one each), with the Redis protocol's faults and loggers
 * in APISIX's {@code protocol{name, conf, logger}} shape.
 */
public final class StreamRouteTranslator {

  private StreamRouteTranslator() {}

  public static Translation translate(StreamRoute sr, Refs refs) {
    var t = new Translation();
    var ns = sr.getMetadata().getNamespace();
    var name = sr.getMetadata().getName();
    var spec = sr.getSpec();
    if (spec == null) {
      t.error("spec", "missing");
      return t;
    }
    var base = JsonNodeFactory.instance.objectNode();
    base.put("name", ApisixRouteTranslator.truncate(ns + "/" + name, 100));
    if (spec.port == null) {
      t.error("spec.port", "missing (expected: the stream listener's port)");
    } else {
      base.put("server_port", spec.port);
    }
    if (spec.match != null && spec.match.serverAddr != null) {
      base.put("server_addr", spec.match.serverAddr);
    }
    var b = spec.backend;
    if (b == null) {
      t.error("spec.backend", "missing (expected: serviceName and servicePort, or nodes)");
    } else if ((b.serviceName != null) == (b.nodes != null && !b.nodes.isEmpty())) {
      t.error(
          "spec.backend",
          (b.serviceName != null
                  ? "serviceName and nodes both set"
                  : "serviceName and nodes both missing")
              + " (expected: one of them)");
    } else if (b.serviceName != null) {
      var up =
          Upstreams.forService(
              ns,
              b.serviceName,
              b.servicePort,
              b.resolveGranularity,
              null,
              Upstreams.BackendFields.of("spec.backend"),
              refs,
              t);
      if (up != null) {
        up.remove("pass_host");
        base.set("upstream", up);
      }
    } else {
      var up = base.putObject("upstream");
      var nodes = up.putArray("nodes");
      for (var n : b.nodes) {
        var node = nodes.addObject().put("host", n.host);
        if (n.port != null) {
          node.put("port", n.port);
        }
        node.put("weight", n.weight == null ? 1 : n.weight);
      }
    }
    protocol(spec.protocol, base, t);
    if (!t.ok()) {
      return t;
    }
    var fields = new HashMap<String, String>();
    fields.put("server_port", "spec.port");
    fields.put("server_addr", "spec.match.serverAddr");
    fields.put("remote_addr", "spec.match.remoteAddrs");
    fields.put("upstream.nodes", "spec.backend.nodes");
    fields.put("protocol", "spec.protocol");
    var remotes =
        spec.match == null || spec.match.remoteAddrs == null || spec.match.remoteAddrs.isEmpty()
            ? List.<String>of()
            : spec.match.remoteAddrs;
    if (remotes.isEmpty()) {
      base.put("id", Ids.of("sr", ns, name));
      add(base, fields, t);
    } else {
      for (int i = 0; i < remotes.size(); i++) {
        var route = base.deepCopy();
        route.put("id", Ids.of("sr", ns, name, String.valueOf(i)));
        route.put("remote_addr", remotes.get(i));
        fields.put("remote_addr", "spec.match.remoteAddrs[" + i + "]");
        add(route, fields, t);
      }
    }
    return t;
  }

  private static void add(ObjectNode route, HashMap<String, String> fields, Translation t) {
    var obj = ModelObjects.read(Kind.STREAM_ROUTES, route, fields, "spec", t);
    if (obj != null) {
      t.add(Kind.STREAM_ROUTES, obj);
    }
  }

  private static void protocol(
      io.archway.crds.archway.StreamRouteSpec.Protocol p, ObjectNode route, Translation t) {
    if (p == null || "tcp".equals(p.name)) {
      if (p != null
          && (p.faults != null
              || p.loggers != null
              || p.multiplex != null
              || p.denyCommands != null
              || p.outputBuffer != null)) {
        t.error(
            "spec.protocol",
            "faults, multiplex, loggers, denyCommands and outputBuffer are for redis"
                + " (expected: name: redis)");
      }
      return;
    }
    if (!Enums.isOneOf(Enums.StreamRouteProtocol.class, p.name)) {
      t.error("spec.protocol.name", Exprs.show(p.name) + " (expected: tcp or redis)");
      return;
    }
    var out = route.putObject("protocol");
    out.put("name", p.name);
    var conf = out.putObject("conf");
    if (p.faults != null) {
      var faults = conf.putArray("faults");
      for (int i = 0; i < p.faults.size(); i++) {
        var f = p.faults.get(i);
        var at = "spec.protocol.faults[" + i + "]";
        if (f.commands == null
            || f.commands.isEmpty()
            || f.commands.stream().anyMatch(c -> c == null || c.isBlank())) {
          t.error(at + ".commands", "missing or blank (expected: command names)");
          continue;
        }
        if (f.delay == null || f.delay < 0) {
          t.error(
              at + ".delay",
              (f.delay == null ? "missing" : f.delay.toString()) + " (expected: seconds >= 0)");
          continue;
        }
        var rule = faults.addObject();
        var cmds = rule.putArray("commands");
        f.commands.forEach(cmds::add);
        if (f.key != null) {
          rule.put("key", f.key);
        }
        rule.put("delay", f.delay);
      }
    }
    if (p.multiplex != null) {
      conf.put("multiplex", p.multiplex);
    }
    if (p.denyCommands != null) {
      var deny = conf.putArray("deny_commands");
      for (int i = 0; i < p.denyCommands.size(); i++) {
        var c = p.denyCommands.get(i);
        if (c == null || !c.matches("[!-~]+")) {
          t.error(
              "spec.protocol.denyCommands[" + i + "]",
              Exprs.show(c) + " (expected: a command name, such as flushall)");
          continue;
        }
        deny.add(c);
      }
    }
    if (p.outputBuffer != null) {
      var ob = conf.putObject("output_buffer");
      if (p.outputBuffer.hard != null) {
        ob.put("hard", p.outputBuffer.hard);
      }
      if (p.outputBuffer.soft != null) {
        ob.put("soft", p.outputBuffer.soft);
      }
      if (p.outputBuffer.softSeconds != null) {
        ob.put("soft_seconds", p.outputBuffer.softSeconds);
      }
    }
    if (p.loggers != null && !p.loggers.isEmpty()) {
      var loggers = out.putArray("logger");
      for (int i = 0; i < p.loggers.size(); i++) {
        var l = p.loggers.get(i);
        var at = "spec.protocol.loggers[" + i + "]";
        if (!"syslog".equals(l.name)) {
          t.error(at + ".name", Exprs.show(l.name) + " (expected: syslog)");
          continue;
        }
        if (l.conf == null || !l.conf.isObject()) {
          t.error(at + ".conf", "missing (expected: the logger's settings, e.g. {host, port})");
          continue;
        }
        var logger = loggers.addObject().put("name", l.name);
        if (l.filter != null && !l.filter.isNull()) {
          logger.set("filter", l.filter.deepCopy());
        }
        logger.set("conf", l.conf.deepCopy());
      }
    }
  }
}
