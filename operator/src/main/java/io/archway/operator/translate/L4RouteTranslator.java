package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Gateway API TLSRoute, TCPRoute and UDPRoute ({@code v1alpha2}) as stream routes: one per listener
 * the route attaches to ({@link ListenerAttachment}: TLSRoute to {@code TLS} listeners, which are
 * Passthrough; TCPRoute to {@code TCP}; UDPRoute to {@code UDP}), bound to it by {@code
 * server_port}; a TLSRoute's by {@code sni} too, one stream route per hostname of the intersection
 * of its hostnames and the listener's (none: a route without {@code sni}, which takes the names no
 * other route has).
 *
 * <p>A route has one rule (a listener port or server name takes one destination); more is {@code
 * Accepted: False, UnsupportedValue}. Its backendRefs become the stream route's one upstream: one
 * backend, the Service through discovery (as ApisixRoute stream rules); several, weighted nodes
 * (each Service's cluster IP and port, weighted by the backendRef's {@code weight}), as a stream
 * route has no {@code traffic-split}; the share of backends that do not resolve goes to a node that
 * refuses connections ({@link #REFUSING_NODE}), as the spec has their connections rejected. The
 * upstream's {@code scheme} is the transport ({@code udp} for UDPRoute, {@code tcp} for the
 * others), so that the dataplane gives a TCP listener and a UDP listener sharing a port number each
 * its own routes. L4RoutePolicies targeting the route add their stream plugins ({@link
 * L4RoutePolicyTranslator#plugins}).
 */
public final class L4RouteTranslator {

  private L4RouteTranslator() {}

  /** A route of one of the three kinds, as the fields the translation reads. */
  record L4Route(
      String kind,
      String idPrefix,
      HasMetadata resource,
      List<ParentReference> parentRefs,
      List<String> hostnames,
      List<List<BackendRef>> rules) {}

  /** The route's fields, or null when {@code r} is not one of the three kinds. */
  static L4Route of(HasMetadata r) {
    return switch (r) {
      case TCPRoute tcp ->
          new L4Route(
              "TCPRoute",
              "tcpr",
              r,
              tcp.getSpec() == null ? null : tcp.getSpec().getParentRefs(),
              null,
              tcp.getSpec() == null || tcp.getSpec().getRules() == null
                  ? List.of()
                  : tcp.getSpec().getRules().stream().map(x -> x.getBackendRefs()).toList());
      case UDPRoute udp ->
          new L4Route(
              "UDPRoute",
              "udpr",
              r,
              udp.getSpec() == null ? null : udp.getSpec().getParentRefs(),
              null,
              udp.getSpec() == null || udp.getSpec().getRules() == null
                  ? List.of()
                  : udp.getSpec().getRules().stream().map(x -> x.getBackendRefs()).toList());
      case TLSRoute tls ->
          new L4Route(
              "TLSRoute",
              "tlsr",
              r,
              tls.getSpec() == null ? null : tls.getSpec().getParentRefs(),
              tls.getSpec() == null ? null : tls.getSpec().getHostnames(),
              tls.getSpec() == null || tls.getSpec().getRules() == null
                  ? List.of()
                  : tls.getSpec().getRules().stream().map(x -> x.getBackendRefs()).toList());
      default -> null;
    };
  }

  private record Analysis(
      List<RouteParents.Parent> parents,
      List<Translation.FieldError> invalid,
      List<BackendRefs.RefProblem> refProblems) {}

  private static Analysis analyze(L4Route route, Refs refs) {
    var ns = route.resource().getMetadata().getNamespace();
    var invalid = new ArrayList<Translation.FieldError>();
    var problems = new ArrayList<BackendRefs.RefProblem>();
    var parents =
        RouteParents.parents(
            route.kind(), ns, route.parentRefs(), route.hostnames(), refs, invalid);
    if (route.rules().isEmpty()) {
      invalid.add(new Translation.FieldError("spec.rules", "missing (expected: one rule)"));
    } else if (route.rules().size() > 1) {
      invalid.add(
          new Translation.FieldError(
              "spec.rules",
              route.rules().size()
                  + " rules (expected: one: a "
                  + route.kind()
                  + " listener takes one destination per "
                  + ("TLSRoute".equals(route.kind()) ? "server name" : "port")
                  + "; Archway serves one rule)"));
    } else {
      var backends = route.rules().get(0) == null ? List.<BackendRef>of() : route.rules().get(0);
      for (int j = 0; j < backends.size(); j++) {
        var p =
            BackendRefs.problem(
                route.kind(),
                ns,
                ref(backends.get(j)),
                "spec.rules[0].backendRefs[" + j + "]",
                null,
                refs);
        if (p != null) {
          problems.add(p);
        }
      }
    }
    return new Analysis(parents, invalid, problems);
  }

  private static BackendRefs.Ref ref(BackendRef b) {
    return new BackendRefs.Ref(
        b.getGroup(), b.getKind(), b.getName(), b.getNamespace(), b.getPort());
  }

  /** The stream routes of a TLSRoute, TCPRoute or UDPRoute. */
  public static Translation translate(HasMetadata r, Refs refs) {
    var route = of(r);
    var t = new Translation();
    var a = analyze(route, refs);
    if (!RouteParents.report(a.parents(), a.invalid(), a.refProblems(), t)) {
      return t;
    }
    var ns = r.getMetadata().getNamespace();
    var name = r.getMetadata().getName();
    var upstream = upstream(route, refs, t);
    var plugins = L4RoutePolicyTranslator.plugins(route.kind(), ns, name, refs, t);
    var seen = new LinkedHashSet<String>();
    for (var parent : a.parents()) {
      if (parent.at().listeners().isEmpty()) {
        continue;
      }
      // As HTTPRoute: only the listeners the Gateway serves get stream routes.
      var served = refs.servedListeners(parent.gateway());
      for (var attached : parent.at().listeners()) {
        var key = RouteParents.listenerKey(parent, attached);
        if (!served.contains(attached.listener().getName()) || !seen.add(key) || upstream == null) {
          continue;
        }
        var base = JsonNodeFactory.instance.objectNode();
        base.put("server_port", attached.listener().getPort());
        base.set("upstream", upstream.deepCopy());
        if (plugins != null && !plugins.isEmpty()) {
          base.set("plugins", plugins.deepCopy());
        }
        var hash = Ids.hash(key).substring(0, 8);
        // A TLS listener routes by server name; TCP and UDP listeners ignore hostnames.
        var snis = "TLSRoute".equals(route.kind()) ? attached.hostnames() : List.<String>of();
        if (snis.isEmpty()) {
          var json = base.deepCopy();
          json.put("id", Ids.of(route.idPrefix(), ns, name, hash));
          json.put("name", ApisixRouteTranslator.truncate(ns + "/" + name + " on " + key, 100));
          add(json, t);
        } else {
          for (int i = 0; i < snis.size(); i++) {
            var json = base.deepCopy();
            json.put("id", Ids.of(route.idPrefix(), ns, name, hash, String.valueOf(i)));
            json.put(
                "name",
                ApisixRouteTranslator.truncate(
                    ns + "/" + name + " on " + key + " for " + snis.get(i), 100));
            json.put("sni", snis.get(i));
            add(json, t);
          }
        }
      }
    }
    return t;
  }

  /**
   * The status per parent of a TLSRoute, TCPRoute or UDPRoute, as {@link
   * HTTPRouteTranslator#status}.
   */
  public static List<RouteParentStatus> status(HasMetadata r, Refs refs) {
    var a = analyze(of(r), refs);
    return RouteParents.status(
        a.parents(), a.invalid(), a.refProblems(), r.getMetadata().getGeneration());
  }

  private static void add(ObjectNode json, Translation t) {
    var obj = ModelObjects.read(Kind.STREAM_ROUTES, json, Map.of(), "spec.rules[0]", t);
    if (obj != null) {
      t.add(Kind.STREAM_ROUTES, obj);
    }
  }

  /**
   * The one upstream of the rule's backends that resolve and take traffic (weight above 0), or null
   * (a warning) when none does: no stream route then, so connections are refused.
   */
  private static ObjectNode upstream(L4Route route, Refs refs, Translation t) {
    var ns = route.resource().getMetadata().getNamespace();
    var backends = route.rules().get(0) == null ? List.<BackendRef>of() : route.rules().get(0);
    var valid = new ArrayList<Valid>();
    long invalidWeight = 0;
    for (int j = 0; j < backends.size(); j++) {
      var b = backends.get(j);
      int weight = b.getWeight() == null ? 1 : b.getWeight();
      var at = "spec.rules[0].backendRefs[" + j + "]";
      if (weight <= 0) {
        continue;
      }
      if (BackendRefs.problem(route.kind(), ns, ref(b), at, null, refs) != null) {
        invalidWeight += weight;
        continue;
      }
      valid.add(new Valid(b, at, weight));
    }
    if (valid.isEmpty()) {
      t.warn(
          "NoBackend",
          "spec.rules[0].backendRefs: no backend resolves and takes traffic: no stream route is"
              + " written, connections are refused");
      return null;
    }
    ObjectNode up;
    if (valid.size() == 1 && invalidWeight == 0) {
      up = service(ns, valid.get(0), null, refs, t);
      if (up == null) {
        return null;
      }
    } else {
      // Several Services in one upstream: each one's cluster IP (kube-proxy balances among its
      // endpoints), weighted by its backendRef.
      up = JsonNodeFactory.instance.objectNode();
      var nodes = up.putObject("nodes");
      for (var v : valid) {
        var one = service(ns, v, "service", refs, t);
        if (one == null || !one.has("nodes") || !one.get("nodes").isObject()) {
          continue;
        }
        one.get("nodes").fieldNames().forEachRemaining(k -> nodes.put(k, v.weight()));
      }
      if (invalidWeight > 0) {
        // The spec: connections to a backend that does not resolve are rejected. Their share goes
        // to a node that refuses connections, and no connection is retried on another node (a
        // retry would hand that share to the others).
        nodes.put(REFUSING_NODE, (int) Math.min(Integer.MAX_VALUE, invalidWeight));
        up.put("retries", 0);
      }
    }
    // The transport, which tells the dataplane a TCP listener's routes from a UDP listener's when
    // both are on one port number (two sockets, the same server_port). TLS passthrough is TCP.
    up.put("scheme", "UDPRoute".equals(route.kind()) ? "udp" : "tcp");
    return up;
  }

  /**
   * Where the share of the backends that do not resolve goes: the dataplane's own loopback on port
   * 1 (TCP port service multiplexer, which nothing serves), so a TCP connection is refused at once
   * and a UDP datagram is answered by no one.
   */
  static final String REFUSING_NODE = "127.0.0.1:1";

  /** A backendRef that resolves and takes traffic. */
  private record Valid(BackendRef ref, String at, int weight) {}

  private static ObjectNode service(
      String ns, Valid v, String granularity, Refs refs, Translation t) {
    var b = v.ref();
    var at = v.at();
    var up =
        BackendRefs.serviceUpstream(
            ns, b.getNamespace(), b.getName(), b.getPort(), at, granularity, refs, t);
    if (up == null) {
      return null;
    }
    up.remove("pass_host");
    return up;
  }
}
