package io.archway.dataplane.config;

import io.archway.dataplane.tls.ServerCertificates;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Listener;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Merges the {@code listeners} objects into the ports to bind ({@link CompiledListeners}), on every
 * change (they are few). Listeners on one port with one protocol are one port (HTTPS: their {@code
 * ssl_ids} together). On one port with different protocols, the protocol the port serves already
 * keeps it (else the first listener's by id) and the others are refused; a listener on a port of
 * the dataplane's options with another protocol is refused. A refusal is logged when it first
 * appears and counted every compile, as other objects left out.
 */
final class ListenerCompiler {

  private Map<Integer, CompiledListeners.Port> before = Map.of();
  private Set<String> told = Set.of();

  CompiledListeners compile(
      Map<String, ConfigItem> items,
      CompiledListeners.Settings settings,
      ServerCertificates served,
      Rejections rejections) {
    if (settings == null) {
      return CompiledListeners.EMPTY; // the options' ports are not bound yet
    }
    var now = new HashSet<String>();
    // By port bound, each group in id order.
    var groups = new TreeMap<Integer, List<Listener>>();
    for (var id : new java.util.TreeSet<>(items.keySet())) {
      var l = (Listener) items.get(id).value();
      groups
          .computeIfAbsent(
              CompiledListeners.bindPort(l.port(), settings.privilegedPorts()),
              k -> new ArrayList<>())
          .add(l);
    }
    var ports = new HashMap<Integer, CompiledListeners.Port>();
    for (var g : groups.entrySet()) {
      int bindPort = g.getKey();
      var listeners = g.getValue();
      var first = listeners.get(0);
      var had = before.get(bindPort);
      var keep =
          had != null
                  && listeners.stream()
                      .anyMatch(l -> l.protocol() == had.protocol() && l.port() == had.port())
              ? had
              : null;
      var protocol = keep != null ? keep.protocol() : first.protocol();
      int declared = keep != null ? keep.port() : first.port();
      var option = settings.optionPorts().get(bindPort);
      var ids = new ArrayList<String>();
      var sslIds = new LinkedHashSet<String>();
      String holder = null;
      for (var l : listeners) {
        if (l.protocol() == protocol && l.port() == declared) {
          holder = holder == null ? l.id() : holder;
        }
      }
      for (var l : listeners) {
        String why = null;
        if (option != null && !option.equals(protocol.name())) {
          why =
              "port "
                  + bindPort
                  + " is the dataplane's "
                  + option
                  + " port (from its options; expected: another port, or protocol "
                  + option
                  + ")";
        } else if (l.protocol() != protocol || l.port() != declared) {
          why =
              "port "
                  + l.port()
                  + (bindPort != l.port() ? " (bound at " + bindPort + ")" : "")
                  + ": "
                  + l.protocol()
                  + " conflicts with "
                  + protocol
                  + " on port "
                  + declared
                  + " of "
                  + Keys.item(Kind.LISTENERS, holder)
                  + " (expected: one protocol per port)";
        }
        if (why != null) {
          reject(l.id(), why, rejections, now);
          continue;
        }
        ids.add(l.id());
        if (l.sslIds() != null) {
          sslIds.addAll(l.sslIds());
        }
      }
      if (ids.isEmpty()) {
        continue;
      }
      var certificates = ServerCertificates.EMPTY;
      if (protocol == Listener.Protocol.HTTPS) {
        certificates = served.only(List.copyOf(sslIds));
        var missing = sslIds.stream().filter(id -> !served.serves(id)).toList();
        if (missing.size() == sslIds.size()) {
          for (var id : ids) {
            reject(
                id,
                "ssl_ids: none of " + missing + " is a served ssl object (expected: an ssl id)",
                rejections,
                now);
          }
          continue;
        }
        if (!missing.isEmpty()) {
          var line =
              "port " + declared + ": ssl_ids " + missing + " not served; serving the others";
          if (now.add(line) && !told.contains(line)) {
            Rejections.log.warn("{}: {}", Keys.item(Kind.LISTENERS, ids.get(0)), line);
          }
        }
      }
      ports.put(
          bindPort,
          new CompiledListeners.Port(
              declared,
              bindPort,
              protocol,
              ids,
              List.copyOf(sslIds),
              certificates,
              option != null));
    }
    before = ports;
    told = now;
    return new CompiledListeners(ports);
  }

  private void reject(String id, String why, Rejections rejections, Set<String> now) {
    var line = id + ": " + why;
    now.add(line);
    if (told.contains(line)) {
      rejections.count(Kind.LISTENERS, 1);
    } else {
      rejections.reject(Kind.LISTENERS, id, "not served", why);
    }
  }
}
