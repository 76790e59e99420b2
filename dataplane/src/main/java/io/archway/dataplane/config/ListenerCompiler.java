package io.archway.dataplane.config;

import io.archway.dataplane.tls.ServerCertificates;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Listener;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Merges the {@code listeners} objects into the sockets to bind ({@link CompiledListeners}), on
 * every change (they are few). Listeners on one port with one protocol are one port (HTTPS: their
 * {@code ssl_ids} together). UDP listeners bind UDP sockets, every other protocol TCP ones, so UDP
 * shares a port number with any other protocol without conflict. On one socket with different
 * protocols, the protocol the socket serves already keeps it (else the first listener's by id) and
 * the others are refused; a listener on a socket of the dataplane's options with another protocol
 * is refused. A refusal is logged when it first appears and counted every compile, as other objects
 * left out.
 */
final class ListenerCompiler {

  private Map<CompiledListeners.Socket, CompiledListeners.Port> before = Map.of();
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
    // By socket bound (port, then TCP before UDP), each group in id order.
    var groups =
        new TreeMap<CompiledListeners.Socket, List<Listener>>(
            Comparator.comparingInt(CompiledListeners.Socket::port)
                .thenComparing(CompiledListeners.Socket::udp));
    for (var id : new java.util.TreeSet<>(items.keySet())) {
      var l = (Listener) items.get(id).value();
      groups
          .computeIfAbsent(
              CompiledListeners.Socket.of(
                  CompiledListeners.bindPort(l.port(), settings.privilegedPorts()), l.protocol()),
              k -> new ArrayList<>())
          .add(l);
    }
    var ports = new HashMap<CompiledListeners.Socket, CompiledListeners.Port>();
    for (var g : groups.entrySet()) {
      var socket = g.getKey();
      int bindPort = socket.port();
      var listeners = g.getValue();
      var first = listeners.get(0);
      var had = before.get(socket);
      var keep =
          had != null
                  && listeners.stream()
                      .anyMatch(l -> l.protocol() == had.protocol() && l.port() == had.port())
              ? had
              : null;
      var protocol = keep != null ? keep.protocol() : first.protocol();
      int declared = keep != null ? keep.port() : first.port();
      var option = settings.optionPorts().get(socket);
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
          socket,
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
