package io.archway.operator.translate;

import static io.archway.operator.translate.GatewayApi.condition;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Kind;
import io.archway.model.Pems;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.SecretObjectReference;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Gateway of one of Archway's GatewayClasses: each listener that can be served becomes a
 * dataplane {@code listeners/<ns>_<gateway>_<listener>} object (its port and protocol; an HTTPS
 * listener its {@code ssl_ids}, one {@code ssls/gw_…} object per certificateRef), and the status
 * says, per listener, with the spec's conditions and reasons, why another cannot. A listener that
 * is invalid or conflicted is left out alone: the others are served.
 *
 * <p>Conflicts are the spec's: listeners on one port must be distinct. HTTP, HTTPS/TLS (told apart
 * by SNI), TCP and UDP are the port's protocol families: two families that share a transport on one
 * port are a {@code ProtocolConflict}; two listeners of one family with the same hostname are a
 * {@code HostnameConflict} (TCP and UDP have no hostname: two on one port are a protocol conflict).
 * Every listener of a conflicting set is conflicted, none wins.
 */
public final class GatewayTranslator {

  private GatewayTranslator() {}

  /** The etcd id of a listener: {@code <ns>_<gateway>_<listener>}. */
  public static String listenerId(String ns, String gateway, String listener) {
    return Ids.of(ns, gateway, listener);
  }

  static String sslId(String ns, String gateway, String listener, int ref) {
    return Ids.of("gw", ns, gateway, listener, String.valueOf(ref));
  }

  private static final String HTTP_ROUTE = "HTTPRoute";
  private static final String GRPC_ROUTE = "GRPCRoute";

  /** The route kinds each protocol takes. */
  private static final Map<String, List<String>> KINDS =
      Map.of(
          "HTTP", List.of(HTTP_ROUTE, GRPC_ROUTE),
          "HTTPS", List.of(HTTP_ROUTE, GRPC_ROUTE),
          "TLS", List.of("TLSRoute"),
          "TCP", List.of("TCPRoute"),
          "UDP", List.of("UDPRoute"));

  /** As {@link #translate(Gateway, Refs, List)} with the dataplane's addresses unknown. */
  public static Translation translate(Gateway gw, Refs refs) {
    return translate(gw, refs, null);
  }

  /**
   * @param published the dataplane Service's addresses, {@code null} when no Service is published
   *     (the Gateway is then programmed without addresses); a Gateway whose parameters have a
   *     {@code service} has its own Service's instead ({@link GatewayServiceTranslator})
   */
  public static Translation translate(Gateway gw, Refs refs, List<GatewayStatusAddress> published) {
    return translate(gw, refs, published, listener -> 0);
  }

  /**
   * @param attachedRoutes the number of routes attached to a listener (by name), for {@code
   *     attachedRoutes}
   */
  public static Translation translate(
      Gateway gw,
      Refs refs,
      List<GatewayStatusAddress> published,
      java.util.function.ToIntFunction<String> attachedRoutes) {
    var t = new Translation();
    var ns = gw.getMetadata().getNamespace();
    var name = gw.getMetadata().getName();
    var generation = gw.getMetadata().getGeneration();
    var spec = gw.getSpec();
    var listeners =
        spec == null || spec.getListeners() == null ? List.<Listener>of() : spec.getListeners();
    var status = new GatewayStatus();
    status.setConditions(new ArrayList<>());
    status.setListeners(new ArrayList<>());
    t.status(status);

    // Gateway-level: addresses and infrastructure.
    String addressProblem = null;
    if (spec != null && spec.getAddresses() != null) {
      for (int i = 0; i < spec.getAddresses().size(); i++) {
        var a = spec.getAddresses().get(i);
        var type = a.getType() == null ? "IPAddress" : a.getType();
        if (!type.equals("IPAddress") && !type.equals("Hostname")) {
          var problem = type + " not supported (expected: IPAddress or Hostname)";
          t.error("spec.addresses[" + i + "].type", problem);
          addressProblem = "spec.addresses[" + i + "].type: " + problem;
        }
      }
    }
    // Its class and parameters (GatewayParametersTranslator): a class that is not accepted, or
    // parameters that cannot be used, and the Gateway is not accepted; with a Service of its own,
    // its addresses are that Service's.
    var admission = GatewayParametersTranslator.admission(gw, refs);
    if (admission.reason() != null) {
      t.warn(admission.reason(), admission.message());
    }
    var params = admission.params();
    if (params != null && params.service != null) {
      published =
          refs.service(ns, GatewayServiceTranslator.name(name))
              .map(GatewayServiceTranslator::addresses)
              .orElse(List.of());
    }
    if (spec != null && spec.getInfrastructure() != null && admission.reason() == null) {
      var infra = spec.getInfrastructure();
      if ((nonEmpty(infra.getLabels()) || nonEmpty(infra.getAnnotations()))
          && (params == null || params.service == null)) {
        t.warn(
            "spec.infrastructure: labels and annotations are not applied: the Gateway has no"
                + " Service of its own (its parameters, GatewayParameters, have no service)");
      }
    }

    // Per listener: its own problems first, then conflicts among those that are left.
    var results = new ArrayList<ListenerResult>();
    for (int i = 0; i < listeners.size(); i++) {
      results.add(listener(gw, listeners.get(i), "spec.listeners[" + i + "]", refs));
    }
    conflicts(results);

    boolean accepted = addressProblem == null && admission.reason() == null;
    int valid = 0;
    for (var r : results) {
      var l = r.listener;
      var ls = new ListenerStatus();
      ls.setName(l.getName());
      ls.setSupportedKinds(r.supportedKinds);
      if (r.supportedKinds.isEmpty()) {
        // The field is required, and the model leaves an empty list out: written as an extra
        // property, it reaches the API server as [].
        ls.setAdditionalProperty("supportedKinds", List.of());
      }
      ls.setAttachedRoutes(attachedRoutes.applyAsInt(l.getName()));
      var conditions = new ArrayList<Condition>();
      conditions.add(
          condition(
              GatewayApi.ACCEPTED,
              r.acceptedReason == null,
              r.acceptedReason == null ? "Accepted" : r.acceptedReason,
              r.acceptedReason == null ? "accepted" : r.acceptedMessage,
              generation));
      conditions.add(
          condition(
              GatewayApi.CONFLICTED,
              r.conflictReason != null,
              r.conflictReason == null ? GatewayApi.NO_CONFLICTS : r.conflictReason,
              r.conflictReason == null ? "no conflicts" : r.conflictMessage,
              generation));
      conditions.add(
          condition(
              GatewayApi.RESOLVED_REFS,
              r.refsReason == null,
              r.refsReason == null ? "ResolvedRefs" : r.refsReason,
              r.refsReason == null ? "references resolved" : r.refsMessage,
              generation));
      boolean programmed = accepted && r.servable();
      conditions.add(
          condition(
              GatewayApi.PROGRAMMED,
              programmed,
              programmed ? "Programmed" : GatewayApi.INVALID,
              programmed
                  ? "programmed as listeners/" + listenerId(ns, name, l.getName())
                  : !accepted ? "the Gateway is not accepted" : r.why(),
              generation));
      ls.setConditions(conditions);
      status.getListeners().add(ls);
      if (!r.servable()) {
        t.warn(GatewayApi.INVALID, r.at + " (" + l.getName() + "): " + r.why());
        continue;
      }
      valid++;
      if (accepted) {
        r.ssls.forEach(
            s -> emitSsl(t, GatewayParametersTranslator.withTlsDefaults(s, params), r.at));
        emitListener(t, r.object, r.at);
      }
    }

    boolean someInvalid = valid < results.size();
    if (admission.reason() != null) {
      status
          .getConditions()
          .add(
              condition(
                  GatewayApi.ACCEPTED, false, admission.reason(), admission.message(), generation));
    } else if (!accepted) {
      status
          .getConditions()
          .add(
              condition(
                  GatewayApi.ACCEPTED,
                  false,
                  GatewayApi.UNSUPPORTED_ADDRESS,
                  addressProblem,
                  generation));
    } else if (someInvalid) {
      status
          .getConditions()
          .add(
              condition(
                  GatewayApi.ACCEPTED,
                  valid > 0,
                  GatewayApi.LISTENERS_NOT_VALID,
                  (results.size() - valid)
                      + " of "
                      + results.size()
                      + " listener(s) not valid; see status.listeners",
                  generation));
    } else {
      status
          .getConditions()
          .add(condition(GatewayApi.ACCEPTED, true, "Accepted", "accepted", generation));
    }
    status.getConditions().add(programmed(gw, accepted, valid > 0, published, status));
    return t;
  }

  /** The Gateway's {@code Programmed}, and its {@code status.addresses}. */
  private static Condition programmed(
      Gateway gw,
      boolean accepted,
      boolean servable,
      List<GatewayStatusAddress> published,
      GatewayStatus status) {
    var generation = gw.getMetadata().getGeneration();
    if (!accepted || !servable) {
      return condition(
          GatewayApi.PROGRAMMED,
          false,
          GatewayApi.INVALID,
          !accepted ? "the Gateway is not accepted" : "no listener can be served",
          generation);
    }
    if (published == null) {
      return condition(
          GatewayApi.PROGRAMMED,
          true,
          "Programmed",
          "programmed; no dataplane Service is published (--publish-service), so no address",
          generation);
    }
    status.setAddresses(published);
    var requested = gw.getSpec().getAddresses();
    if (requested != null) {
      for (var a : requested) {
        var type = a.getType() == null ? "IPAddress" : a.getType();
        boolean found =
            published.stream()
                .anyMatch(
                    p ->
                        Objects.equals(a.getValue(), p.getValue())
                            && type.equals(p.getType() == null ? "IPAddress" : p.getType()));
        if (!found) {
          return condition(
              GatewayApi.PROGRAMMED,
              false,
              GatewayApi.ADDRESS_NOT_ASSIGNED,
              "address "
                  + a.getValue()
                  + " is not one of the dataplane Service's ("
                  + String.join(
                      ", ", published.stream().map(GatewayStatusAddress::getValue).toList())
                  + "); Archway does not provision addresses",
              generation);
        }
      }
    }
    if (published.isEmpty()) {
      return condition(
          GatewayApi.PROGRAMMED,
          false,
          GatewayApi.ADDRESS_NOT_ASSIGNED,
          "the dataplane Service has no address yet",
          generation);
    }
    return condition(GatewayApi.PROGRAMMED, true, "Programmed", "programmed", generation);
  }

  /** What one listener came to before conflicts are looked at. */
  private static final class ListenerResult {
    final Listener listener;
    final String at;
    final String protocol;
    List<RouteGroupKind> supportedKinds = new ArrayList<>();
    String acceptedReason;
    String acceptedMessage;
    String conflictReason;
    String conflictMessage;
    String refsReason;
    String refsMessage;
    boolean noValidKinds;
    final List<ObjectNode> ssls = new ArrayList<>();
    ObjectNode object;

    ListenerResult(Listener listener, String at) {
      this.listener = listener;
      this.at = at;
      this.protocol = listener.getProtocol();
    }

    void notAccepted(String reason, String message) {
      if (acceptedReason == null) {
        acceptedReason = reason;
        acceptedMessage = message;
      }
    }

    void refs(String reason, String message) {
      if (refsReason == null) {
        refsReason = reason;
        refsMessage = message;
      }
    }

    /**
     * Whether it is served: accepted, not conflicted, its certificates resolved (a listener with
     * some route kinds it cannot take is still served for the others).
     */
    boolean servable() {
      return acceptedReason == null
          && conflictReason == null
          && (refsReason == null || GatewayApi.INVALID_ROUTE_KINDS.equals(refsReason))
          && !noValidKinds;
    }

    String why() {
      if (acceptedReason != null) {
        return acceptedMessage;
      }
      if (conflictReason != null) {
        return conflictMessage;
      }
      return refsMessage;
    }
  }

  private static ListenerResult listener(Gateway gw, Listener l, String at, Refs refs) {
    var r = new ListenerResult(l, at);
    var protocol = l.getProtocol();
    var kinds = KINDS.get(protocol);
    if (kinds == null) {
      r.notAccepted(
          GatewayApi.UNSUPPORTED_PROTOCOL,
          at
              + ".protocol: "
              + protocol
              + " not supported (expected: HTTP, HTTPS, TLS, TCP or UDP)");
      return r;
    }
    if (l.getPort() == null || l.getPort() < 1 || l.getPort() > 65535) {
      r.notAccepted(
          GatewayApi.PORT_UNAVAILABLE, at + ".port: " + l.getPort() + " (expected: 1..65535)");
    }
    routeKinds(r, kinds);
    var tls = l.getTls();
    var mode = tls == null || tls.getMode() == null ? null : tls.getMode();
    var sslIds = new ArrayList<String>();
    switch (protocol) {
      case "HTTPS" -> {
        if (tls == null) {
          r.notAccepted(
              GatewayApi.UNSUPPORTED_VALUE,
              at + ".tls: missing (expected: mode Terminate with certificateRefs)");
        } else if (mode != null && !mode.equals("Terminate")) {
          r.notAccepted(
              GatewayApi.UNSUPPORTED_VALUE,
              at + ".tls.mode: " + mode + " (expected: Terminate for HTTPS; Passthrough is TLS's)");
        } else {
          certificates(gw, r, refs, sslIds);
        }
      }
      case "TLS" -> {
        if (mode != null && !mode.equals("Passthrough")) {
          r.notAccepted(
              GatewayApi.UNSUPPORTED_VALUE,
              at
                  + ".tls.mode: "
                  + mode
                  + " not supported on a TLS listener (expected: Passthrough; terminate TLS on an"
                  + " HTTPS listener)");
        }
      }
      default -> {
        if (tls != null) {
          r.notAccepted(
              GatewayApi.UNSUPPORTED_VALUE, at + ".tls: not allowed with protocol " + protocol);
        }
      }
    }
    var json = JsonNodeFactory.instance.objectNode();
    var ns = gw.getMetadata().getNamespace();
    json.put("id", listenerId(ns, gw.getMetadata().getName(), l.getName()));
    json.put("port", l.getPort() == null ? 0 : l.getPort());
    json.put("protocol", protocol);
    if (!sslIds.isEmpty()) {
      var arr = json.putArray("ssl_ids");
      sslIds.forEach(arr::add);
    }
    // TCP and UDP listeners have no hostname (the spec says it is ignored there).
    if (l.getHostname() != null && !protocol.equals("TCP") && !protocol.equals("UDP")) {
      json.put("hostname", l.getHostname());
    }
    r.object = json;
    return r;
  }

  /** {@code allowedRoutes.kinds}, checked against what the protocol takes. */
  private static void routeKinds(ListenerResult r, List<String> kinds) {
    var allowed = r.listener.getAllowedRoutes();
    if (allowed == null || allowed.getKinds() == null || allowed.getKinds().isEmpty()) {
      kinds.forEach(k -> r.supportedKinds.add(new RouteGroupKind(GatewayApi.GROUP, k)));
      return;
    }
    var invalid = new ArrayList<String>();
    for (var k : allowed.getKinds()) {
      var group = k.getGroup() == null ? GatewayApi.GROUP : k.getGroup();
      if (group.equals(GatewayApi.GROUP) && kinds.contains(k.getKind())) {
        r.supportedKinds.add(new RouteGroupKind(GatewayApi.GROUP, k.getKind()));
      } else {
        invalid.add((group.isEmpty() ? "" : group + "/") + k.getKind());
      }
    }
    if (!invalid.isEmpty()) {
      r.refs(
          GatewayApi.INVALID_ROUTE_KINDS,
          r.at
              + ".allowedRoutes.kinds: "
              + String.join(", ", invalid)
              + " not supported with protocol "
              + r.protocol
              + " (expected: "
              + String.join(", ", kinds)
              + ")");
      r.noValidKinds = r.supportedKinds.isEmpty();
    }
  }

  /** The certificateRefs of an HTTPS listener: one {@code ssls} object each, or the reason why. */
  private static void certificates(Gateway gw, ListenerResult r, Refs refs, List<String> sslIds) {
    var tls = r.listener.getTls();
    var certs = tls.getCertificateRefs();
    var at = r.at + ".tls.certificateRefs";
    if (certs == null || certs.isEmpty()) {
      r.refs(GatewayApi.INVALID_CERTIFICATE_REF, at + ": missing (expected: at least one Secret)");
      return;
    }
    var gwNs = gw.getMetadata().getNamespace();
    for (int i = 0; i < certs.size(); i++) {
      var ref = certs.get(i);
      var refAt = at + "[" + i + "]";
      var group = ref.getGroup() == null ? "" : ref.getGroup();
      var kind = ref.getKind() == null ? "Secret" : ref.getKind();
      if (!group.isEmpty() || !kind.equals("Secret")) {
        r.refs(
            GatewayApi.INVALID_CERTIFICATE_REF,
            refAt
                + ": "
                + kind
                + " (group \""
                + group
                + "\") (expected: a Secret of the core group)");
        continue;
      }
      var ns =
          ref.getNamespace() == null || ref.getNamespace().isEmpty() ? gwNs : ref.getNamespace();
      if (!ns.equals(gwNs) && !granted(refs, gwNs, ns, ref)) {
        r.refs(
            GatewayApi.REF_NOT_PERMITTED,
            refAt
                + ": Secret "
                + ns
                + "/"
                + ref.getName()
                + " is in another namespace and no ReferenceGrant there allows Gateways of "
                + gwNs
                + " to use it");
        continue;
      }
      var check = new Translation();
      var secret = TlsSecrets.secret(refs, ns, ref.getName(), refAt, check);
      if (secret != null && !"kubernetes.io/tls".equals(secret.getType())) {
        check.error(
            refAt,
            "Secret "
                + ns
                + "/"
                + ref.getName()
                + " is of type "
                + secret.getType()
                + " (expected: kubernetes.io/tls)");
      }
      var pair = check.ok() ? TlsSecrets.pair(secret, ns, ref.getName(), refAt, check) : null;
      var snis = pair == null ? List.<String>of() : snis(r.listener, pair, refAt, check);
      if (!check.ok() || pair == null) {
        r.refs(GatewayApi.INVALID_CERTIFICATE_REF, check.errorMessage());
        continue;
      }
      var id = sslId(gwNs, gw.getMetadata().getName(), r.listener.getName(), i);
      var ssl = JsonNodeFactory.instance.objectNode();
      ssl.put("id", id);
      var arr = ssl.putArray("snis");
      snis.forEach(arr::add);
      ssl.put("cert", pair.cert());
      ssl.put("key", pair.key());
      r.ssls.add(ssl);
      sslIds.add(id);
    }
  }

  /**
   * The names a certificate is served for: the listener's hostname, else the certificate's DNS
   * names (an {@code ssls} object needs at least one).
   */
  private static List<String> snis(Listener l, TlsSecrets.Pair pair, String at, Translation t) {
    if (l.getHostname() != null && !l.getHostname().isEmpty()) {
      return List.of(l.getHostname());
    }
    try {
      X509Certificate cert = Pems.certificates(pair.cert()).get(0);
      var names = new LinkedHashSet<String>();
      var sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (var san : sans) {
          if (Integer.valueOf(2).equals(san.get(0))) {
            names.add(String.valueOf(san.get(1)));
          }
        }
      }
      if (names.isEmpty()) {
        t.error(
            at,
            "the certificate names no DNS name and the listener no hostname (expected: one of"
                + " them, to serve it by SNI)");
      }
      return List.copyOf(names);
    } catch (GeneralSecurityException e) {
      t.error(at, e.getMessage());
      return List.of();
    }
  }

  private static boolean granted(Refs refs, String fromNs, String toNs, SecretObjectReference ref) {
    return refs.referenceGrants(toNs).stream()
        .filter(g -> g.getSpec() != null && g.getSpec().getFrom() != null)
        .filter(g -> g.getSpec().getTo() != null)
        .anyMatch(
            g ->
                g.getSpec().getFrom().stream()
                        .anyMatch(
                            f ->
                                GatewayApi.GROUP.equals(f.getGroup())
                                    && "Gateway".equals(f.getKind())
                                    && fromNs.equals(f.getNamespace()))
                    && g.getSpec().getTo().stream()
                        .anyMatch(
                            to ->
                                (to.getGroup() == null || to.getGroup().isEmpty())
                                    && "Secret".equals(to.getKind())
                                    && (to.getName() == null
                                        || to.getName().isEmpty()
                                        || to.getName().equals(ref.getName()))));
  }

  /** The protocol families that cannot share a port: HTTP, HTTPS and TLS (SNI), TCP, UDP. */
  private static String family(String protocol) {
    return switch (protocol) {
      case "HTTPS", "TLS" -> "TLS";
      default -> protocol;
    };
  }

  private static String transport(String protocol) {
    return protocol.equals("UDP") ? "UDP" : "TCP";
  }

  /** Marks the listeners that are not distinct on their port (see the class comment). */
  private static void conflicts(List<ListenerResult> results) {
    Map<String, List<ListenerResult>> byPort = new HashMap<>();
    for (var r : results) {
      if (r.acceptedReason != null) {
        continue; // an unsupported protocol or port takes no part in conflicts
      }
      byPort
          .computeIfAbsent(
              r.listener.getPort() + "/" + transport(r.protocol), k -> new ArrayList<>())
          .add(r);
    }
    for (var group : byPort.values()) {
      Set<String> families = new LinkedHashSet<>();
      group.forEach(r -> families.add(family(r.protocol)));
      if (families.size() > 1) {
        for (var r : group) {
          r.conflictReason = GatewayApi.PROTOCOL_CONFLICT;
          r.conflictMessage =
              "port "
                  + r.listener.getPort()
                  + " is shared by listeners of protocols "
                  + String.join(", ", group.stream().map(x -> x.protocol).distinct().toList());
        }
        continue;
      }
      for (int i = 0; i < group.size(); i++) {
        for (int j = 0; j < group.size(); j++) {
          if (i == j) {
            continue;
          }
          var a = group.get(i);
          var b = group.get(j);
          if (a.protocol.equals("TCP") || a.protocol.equals("UDP")) {
            a.conflictReason = GatewayApi.PROTOCOL_CONFLICT;
            a.conflictMessage =
                "port "
                    + a.listener.getPort()
                    + " has several "
                    + a.protocol
                    + " listeners ("
                    + a.listener.getName()
                    + ", "
                    + b.listener.getName()
                    + "), which nothing tells apart";
          } else if (Objects.equals(a.listener.getHostname(), b.listener.getHostname())) {
            a.conflictReason = GatewayApi.HOSTNAME_CONFLICT;
            a.conflictMessage =
                "listeners "
                    + a.listener.getName()
                    + " and "
                    + b.listener.getName()
                    + " on port "
                    + a.listener.getPort()
                    + " have the same hostname "
                    + (a.listener.getHostname() == null ? "(none)" : a.listener.getHostname());
          }
        }
      }
    }
  }

  private static void emitSsl(Translation t, ObjectNode ssl, String at) {
    var obj = ModelObjects.read(Kind.SSLS, ssl, Map.of("snis", at + ".hostname"), at, t);
    if (obj != null) {
      t.add(Kind.SSLS, obj);
    }
  }

  /** The dataplane {@code listeners} object, read back as the dataplane will. */
  private static void emitListener(Translation t, ObjectNode listener, String at) {
    var obj =
        ModelObjects.read(
            Kind.LISTENERS,
            listener,
            Map.of(
                "port", at + ".port", "protocol", at + ".protocol", "hostname", at + ".hostname"),
            at,
            t);
    if (obj != null) {
      t.add(Kind.LISTENERS, obj);
    }
  }

  private static boolean nonEmpty(Map<?, ?> m) {
    return m != null && !m.isEmpty();
  }
}
