package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.crds.Enums;
import io.archway.crds.Timeout;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.apisix.ApisixUpstreamSpec;
import io.archway.crds.apisix.UpstreamSettings;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Upstreams in APISIX's JSON from Kubernetes backends: a Service (its pods through discovery, its
 * cluster IP, or its ExternalName), or an ApisixUpstream's external nodes; and the settings of the
 * ApisixUpstream named like the Service applied over them.
 */
final class Upstreams {

  static final int DEFAULT_WEIGHT = 100;
  static final String DISCOVERY = "kubernetes";

  /**
   * Where a Service backend is in its resource, for errors: the backend, its Service name field and
   * its port field ({@code serviceName}/{@code servicePort} in Archway's and APISIX's resources,
   * {@code service.name}/{@code service.port} in an Ingress).
   */
  record BackendFields(String at, String name, String port) {
    static BackendFields of(String at) {
      return new BackendFields(at, at + ".serviceName", at + ".servicePort");
    }
  }

  static final String CONTROL_PLANE = "controlplane";

  static final String ZOOKEEPER = "zookeeper";

  /** The schemes served: the CRD's list (tls: TCP over TLS to the nodes of a stream route). */
  private static final String SCHEMES =
      "one of " + String.join(", ", Enums.values(Enums.Scheme.class));

  private Upstreams() {}

  /** An ApisixRoute backend; {@code null} (errors recorded) if bad. */
  static ObjectNode forService(
      String ns,
      io.archway.crds.apisix.ApisixRouteSpec.StreamBackend b,
      String at,
      Refs refs,
      Translation t) {
    return forService(
        ns,
        b.serviceName,
        b.servicePort,
        b.resolveGranularity,
        b.subset,
        BackendFields.of(at),
        refs,
        t);
  }

  /** A Service backend of the resource in {@code ns}; {@code null} (errors recorded) if bad. */
  static ObjectNode forService(
      String ns,
      String serviceName,
      IntOrString servicePort,
      String granularity,
      String subset,
      BackendFields fields,
      Refs refs,
      Translation t) {
    var at = fields.at();
    if (serviceName == null || serviceName.isEmpty()) {
      t.error(fields.name(), "missing (expected: a Service name)");
      return null;
    }
    if (servicePort == null) {
      t.error(fields.port(), "missing (expected: a port number or name)");
      return null;
    }
    if (granularity != null && !Enums.isOneOf(Enums.ResolveGranularity.class, granularity)) {
      t.error(
          at + ".resolveGranularity", Exprs.show(granularity) + " (expected: endpoint or service)");
      return null;
    }
    if ("endpoints".equals(granularity)) {
      // The APISIX Ingress Controller's documented spelling for http backends.
      granularity = "endpoint";
    }
    var up = JsonNodeFactory.instance.objectNode();
    var service = refs.service(ns, serviceName);
    if (service.isEmpty()) {
      if (refs.offline() && servicePort.getIntVal() != null && !"service".equals(granularity)) {
        t.warn(
            at
                + ".serviceName: Service "
                + ns
                + "/"
                + serviceName
                + " is not in the files; assumed to exist with port "
                + servicePort.getIntVal());
        discovery(up, ns, serviceName, String.valueOf(servicePort.getIntVal()));
        return settings(up, ns, serviceName, servicePort.getIntVal(), subset, at, refs, t);
      }
      t.error(fields.name(), "Service " + ns + "/" + serviceName + " not found");
      return null;
    }
    var svc = service.get();
    var port = port(svc, servicePort);
    if (port == null
        && "ExternalName".equals(svc.getSpec().getType())
        && (svc.getSpec().getPorts() == null || svc.getSpec().getPorts().isEmpty())
        && servicePort.getIntVal() != null) {
      // An ExternalName Service often declares no ports: the backend's number is the port.
      port =
          new io.fabric8.kubernetes.api.model.ServicePortBuilder()
              .withPort(servicePort.getIntVal())
              .build();
    }
    if (port == null) {
      t.error(
          fields.port(),
          (servicePort.getIntVal() != null
                  ? "port " + servicePort.getIntVal()
                  : "unknown port name \"" + servicePort.getStrVal() + "\"")
              + " on Service "
              + ns
              + "/"
              + serviceName
              + " (expected: one of "
              + ports(svc)
              + ")");
      return null;
    }
    var spec = svc.getSpec();
    if ("ExternalName".equals(spec.getType())) {
      up.putObject("nodes").put(spec.getExternalName() + ":" + port.getPort(), DEFAULT_WEIGHT);
      up.put("pass_host", "node");
    } else if ("service".equals(granularity)) {
      var ip = spec.getClusterIP();
      if (ip == null || ip.isEmpty()) {
        // Not headless: the API server has not assigned the IP yet (a manifest as written, read
        // by translate or validate). The Service's DNS name resolves to that IP in the cluster.
        ip = serviceName + "." + ns + ".svc";
      }
      if (ip.equals("None")) {
        t.error(
            at + ".resolveGranularity",
            "Service "
                + ns
                + "/"
                + serviceName
                + " has no cluster IP (headless) (expected: endpoint for a headless Service)");
        return null;
      }
      up.putObject("nodes").put(hostPort(ip, port.getPort()), DEFAULT_WEIGHT);
    } else if (controlPlane(ns, serviceName, at, refs, t)) {
      // Control-plane discovery: the Service's ready endpoints (of the subset's Pods), as nodes.
      var labels =
          subset == null || subset.isEmpty()
              ? null
              : subsetLabels(ns, serviceName, subset, at, refs, t);
      if (subset != null && !subset.isEmpty() && labels == null) {
        return null;
      }
      java.util.function.Predicate<String> pods =
          labels == null
              ? null
              : pod -> {
                var have = refs.podLabels(ns, pod);
                return have != null && have.entrySet().containsAll(labels.entrySet());
              };
      var portName = port.getName() == null ? "" : port.getName();
      var nodes = up.putArray("nodes");
      for (var n :
          io.archway.model.EndpointSliceNodes.nodes(
              refs.endpointSlices(ns, serviceName), portName, null, pods)) {
        nodes.addObject().put("host", n.host()).put("port", n.port()).put("weight", n.weight());
      }
      return settings(up, ns, serviceName, port.getPort(), null, at, refs, t);
    } else {
      var portKey =
          port.getName() != null && !port.getName().isEmpty()
              ? port.getName()
              : String.valueOf(port.getPort());
      discovery(up, ns, serviceName, portKey);
    }
    return settings(up, ns, serviceName, port.getPort(), subset, at, refs, t);
  }

  /** The labels of the ApisixUpstream subset {@code subset}; {@code null} (error) when none. */
  private static java.util.Map<String, String> subsetLabels(
      String ns, String serviceName, String subset, String at, Refs refs, Translation t) {
    var au = refs.apisixUpstream(ns, serviceName).map(ApisixUpstream::getSpec).orElse(null);
    var found =
        au == null || au.subsets == null
            ? null
            : au.subsets.stream().filter(s -> subset.equals(s.name)).findFirst().orElse(null);
    if (found == null || found.labels == null) {
      t.error(
          at + ".subset",
          "\"" + subset + "\" is not a subset of ApisixUpstream " + ns + "/" + serviceName);
      return null;
    }
    return found.labels;
  }

  /**
   * Whether the operator resolves this Service's endpoints itself: always under {@code ALL}; under
   * {@code MARKED} when its ApisixUpstream says {@code discovery: {type: controlplane}}. A marked
   * one while the operator does not resolve endpoints is an error, not a silent fallback.
   */
  private static boolean controlPlane(
      String ns, String serviceName, String at, Refs refs, Translation t) {
    var au = refs.apisixUpstream(ns, serviceName).map(ApisixUpstream::getSpec).orElse(null);
    boolean marked = au != null && au.discovery != null && CONTROL_PLANE.equals(au.discovery.type);
    return switch (refs.controlPlaneDiscovery()) {
      case ALL -> true;
      case MARKED -> marked;
      case OFF -> {
        if (marked) {
          t.error(
              at,
              "ApisixUpstream "
                  + ns
                  + "/"
                  + serviceName
                  + ": spec.discovery.type: controlplane needs the operator to run with"
                  + " --control-plane-discovery marked or all");
        }
        yield false;
      }
    };
  }

  /** The nodes of an ApisixUpstream with {@code externalNodes}, with its settings. */
  static ObjectNode forExternal(String ns, String name, String at, Refs refs, Translation t) {
    var au = refs.apisixUpstream(ns, name);
    if (au.isEmpty()) {
      t.error(at + ".name", "ApisixUpstream " + ns + "/" + name + " not found");
      return null;
    }
    var spec = au.get().getSpec();
    if (spec != null
        && (spec.externalNodes == null || spec.externalNodes.isEmpty())
        && spec.discovery != null
        && !CONTROL_PLANE.equals(spec.discovery.type)) {
      // Nodes from a discovery system (a registry the operator follows, or the dataplane's).
      int before = t.errors().size();
      var up = JsonNodeFactory.instance.objectNode();
      apply(
          spec,
          null,
          up,
          "ApisixUpstream " + ns + "/" + name + ": spec",
          at + ".name",
          ns,
          refs,
          t);
      return t.errors().size() == before ? up : null;
    }
    if (spec == null || spec.externalNodes == null || spec.externalNodes.isEmpty()) {
      t.error(
          at + ".name",
          "ApisixUpstream "
              + ns
              + "/"
              + name
              + " has no externalNodes (expected: externalNodes or discovery, or use backends"
              + " for a Service)");
      return null;
    }
    int before = t.errors().size();
    var up = JsonNodeFactory.instance.objectNode();
    var nodes = up.putArray("nodes");
    var where = "ApisixUpstream " + ns + "/" + name + ": spec.externalNodes";
    for (int i = 0; i < spec.externalNodes.size(); i++) {
      var n = spec.externalNodes.get(i);
      var host = n.name;
      if ("Service".equals(n.type)) {
        var svc = refs.service(ns, n.name);
        if (svc.isEmpty() || !"ExternalName".equals(svc.get().getSpec().getType())) {
          t.error(
              at + ".name",
              where + "[" + i + "].name: ExternalName Service " + ns + "/" + n.name + " not found");
          return null;
        }
        host = svc.get().getSpec().getExternalName();
      }
      if (n.port == null && "kafka".equals(spec.scheme)) {
        t.error(
            at + ".name",
            where
                + "["
                + i
                + "].port: missing (expected: the broker's port, e.g. 9092, as scheme is kafka)");
        return null;
      }
      var node = nodes.addObject().put("host", host);
      if (n.port != null) {
        node.put("port", n.port);
      }
      node.put("weight", n.weight == null ? DEFAULT_WEIGHT : n.weight);
    }
    up.put("pass_host", "node");
    apply(
        spec, null, up, "ApisixUpstream " + ns + "/" + name + ": spec", at + ".name", ns, refs, t);
    return t.errors().size() == before ? up : null;
  }

  private static ObjectNode settings(
      ObjectNode up,
      String ns,
      String serviceName,
      int port,
      String subset,
      String at,
      Refs refs,
      Translation t) {
    var au = refs.apisixUpstream(ns, serviceName).map(ApisixUpstream::getSpec).orElse(null);
    if (subset != null && !subset.isEmpty()) {
      var found = subsetLabels(ns, serviceName, subset, at, refs, t);
      if (found == null) {
        return null;
      }
      if (!up.has("service_name")) {
        t.error(at + ".subset", "subsets need resolveGranularity endpoint (the pods' labels)");
        return null;
      }
      var labels = up.putObject("discovery_args").putObject("labels");
      found.forEach(labels::put);
    }
    if (au != null) {
      int before = t.errors().size();
      apply(au, port, up, "ApisixUpstream " + ns + "/" + serviceName + ": spec", at, ns, refs, t);
      if (t.errors().size() > before) {
        return null;
      }
    }
    return up;
  }

  /**
   * Applies an ApisixUpstream's settings, and those of {@code port} from its portLevelSettings.
   * Errors are recorded on {@code at} with the ApisixUpstream field in the message.
   */
  static void apply(
      ApisixUpstreamSpec spec,
      Integer port,
      ObjectNode up,
      String where,
      String at,
      String ns,
      Refs refs,
      Translation t) {
    if (spec.discovery != null && !CONTROL_PLANE.equals(spec.discovery.type)) {
      var type = spec.discovery.type;
      var name = spec.discovery.serviceName;
      RegistryLookup found = null;
      if (name == null || type == null) {
        t.error(at, where + ".discovery: serviceName and type are required");
      } else if (!DISCOVERY.equals(type) && !"dns".equals(type) && !ZOOKEEPER.equals(type)) {
        // nacos, eureka, consul ...: nothing would find their nodes.
        t.error(
            at,
            where
                + ".discovery.type: \""
                + type
                + "\" not supported by Archway (expected: kubernetes, dns or zookeeper, or"
                + " controlplane for nodes the operator resolves)");
      } else if (!DISCOVERY.equals(type) && (found = refs.registry(type, name)) != null) {
        registryNodes(up, found, where, at, t);
      } else if (ZOOKEEPER.equals(type)) {
        // The dataplane has no ZooKeeper client: only the operator resolves these.
        var msg =
            where + ".discovery.type: zookeeper needs the operator to run with --zookeeper-connect";
        if (refs.offline()) {
          t.warn(msg + "; written without nodes");
          up.putArray("nodes");
        } else {
          t.error(at, msg);
        }
      } else {
        up.remove("nodes");
        up.put("service_name", name);
        up.put("discovery_type", type);
        if (spec.discovery.args != null && spec.discovery.args.isObject()) {
          up.set("discovery_args", spec.discovery.args.deepCopy());
        }
      }
    }
    settings(spec, up, where, at, ns, refs, t);
    if (port != null && spec.portLevelSettings != null) {
      for (int i = 0; i < spec.portLevelSettings.size(); i++) {
        var pls = spec.portLevelSettings.get(i);
        if (pls.port != null && pls.port.equals(port)) {
          settings(pls, up, where + ".portLevelSettings[" + i + "]", at, ns, refs, t);
        }
      }
    }
  }

  /**
   * Control-plane discovery from a registry, as apisix-seed writes it: the nodes, with {@code
   * _discovery_type} and {@code _service_name} saying where they come from (APISIX and the
   * dataplane serve the nodes and leave those two alone). A registry that has never answered for
   * the service refuses the upstream, naming its error; one that cannot answer now keeps the last
   * nodes it gave, with a warning.
   */
  private static void registryNodes(
      ObjectNode up, RegistryLookup found, String where, String at, Translation t) {
    if (!found.known()) {
      t.error(at, where + ".discovery: " + found.error() + " (written once it answers)");
      return;
    }
    up.remove("service_name");
    up.remove("discovery_type");
    up.remove("discovery_args");
    var nodes = up.putArray("nodes");
    for (var n : found.nodes()) {
      var node = nodes.addObject().put("host", n.host());
      if (n.port() != null) {
        node.put("port", n.port());
      }
      node.put("weight", n.weight());
      if (n.priority() != null) {
        node.put("priority", n.priority());
      }
    }
    up.put("_discovery_type", found.type());
    up.put("_service_name", found.serviceName());
    if (found.error() != null) {
      t.warn(
          "RegistryUnavailable",
          where
              + ".discovery: "
              + found.error()
              + "; the last known "
              + found.nodes().size()
              + " node(s) stay written");
    } else if (found.nodes().isEmpty()) {
      t.warn(
          "RegistryNoNodes",
          where
              + ".discovery: "
              + found.type()
              + " service "
              + found.serviceName()
              + " has no nodes (answered 503 until it has)");
    }
  }

  static void settings(
      UpstreamSettings s,
      ObjectNode up,
      String where,
      String at,
      String ns,
      Refs refs,
      Translation t) {
    if (s.loadbalancer != null) {
      var lb = s.loadbalancer;
      // No type is roundrobin: the BackendTrafficPolicy schema's default in the APISIX Ingress
      // Controller, and what its ApisixUpstream translation does with an empty type.
      var type = lb.type == null ? "roundrobin" : lb.type;
      if (!Enums.isOneOf(Enums.LoadBalancer.class, type)) {
        t.error(
            at,
            where
                + ".loadbalancer.type: "
                + Exprs.show(lb.type)
                + " (expected: "
                + Enums.oneOf(Enums.LoadBalancer.class)
                + ")");
      } else {
        up.put("type", type);
      }
      if (lb.hashOn != null) {
        if (!Enums.isOneOf(Enums.HashOn.class, lb.hashOn)) {
          t.error(
              at,
              where
                  + ".loadbalancer.hashOn: "
                  + Exprs.show(lb.hashOn)
                  + " (expected: "
                  + Enums.oneOf(Enums.HashOn.class)
                  + ")");
        }
        up.put("hash_on", lb.hashOn);
      }
      if (lb.key != null) {
        up.put("key", lb.key);
      }
      if ("chash".equals(lb.type) && lb.key == null && !"consumer".equals(lb.hashOn)) {
        t.error(at, where + ".loadbalancer.key: missing (expected: the hash key for chash)");
      }
    }
    if (s.scheme != null) {
      if (!Enums.isOneOf(Enums.Scheme.class, s.scheme)) {
        t.error(at, where + ".scheme: " + Exprs.show(s.scheme) + " (expected: " + SCHEMES + ")");
      }
      up.put("scheme", s.scheme);
    }
    if (s.keepalivePool != null) {
      // 0 is the controller's unset value (omitempty there): APISIX's default.
      var k = s.keepalivePool;
      var pool = JsonNodeFactory.instance.objectNode();
      if (k.size != null && k.size != 0) {
        pool.put("size", k.size);
      }
      if (k.idleTimeout != null && k.idleTimeout != 0) {
        pool.put("idle_timeout", k.idleTimeout);
      }
      if (k.requests != null && k.requests != 0) {
        pool.put("requests", k.requests);
      }
      if (!pool.isEmpty()) {
        up.set("keepalive_pool", pool);
      }
    }
    if (s.retries != null) {
      if (s.retries < 0) {
        t.error(at, where + ".retries: " + s.retries + " (expected: >= 0)");
      }
      up.put("retries", s.retries);
    }
    if (s.timeout != null) {
      var timeout = timeout(s.timeout, where + ".timeout", at, t);
      if (timeout != null) {
        up.set("timeout", timeout);
      }
    }
    if (s.healthCheck != null) {
      var checks = HealthCheckMapper.checks(s.healthCheck, where + ".healthCheck", at, t);
      if (checks != null) {
        up.set("checks", checks);
      }
    }
    if (s.tlsSecret != null) {
      tlsSecret(s.tlsSecret, up, where + ".tlsSecret", at, ns, refs, t);
    }
    if (s.passHost != null) {
      if (!Enums.isOneOf(Enums.PassHost.class, s.passHost)) {
        t.error(
            at,
            where + ".passHost: " + Exprs.show(s.passHost) + " (expected: pass, node or rewrite)");
      }
      up.put("pass_host", s.passHost);
    }
    if (s.upstreamHost != null) {
      up.put("upstream_host", s.upstreamHost);
    }
    // A port's rewrite may use the upstreamHost set for all ports.
    if ("rewrite".equals(s.passHost) && !up.hasNonNull("upstream_host")) {
      t.error(at, where + ".upstreamHost: missing (expected: set when passHost is rewrite)");
    }
  }

  /**
   * {@code tlsSecret}: the client certificate shown to the nodes ({@code tls.crt}, {@code
   * tls.key}), and, when the Secret holds a {@code ca.crt}, the authorities their certificates are
   * verified against ({@code tls.ca}, {@code tls.verify: true}).
   */
  private static void tlsSecret(
      ApisixUpstreamSpec.SecretReference ref,
      ObjectNode up,
      String where,
      String at,
      String ns,
      Refs refs,
      Translation t) {
    var secretNs = ref.namespace == null ? ns : ref.namespace;
    var scratch = new Translation();
    var secret = TlsSecrets.secret(refs, secretNs, ref.name, at, scratch);
    var pair = secret == null ? null : TlsSecrets.pair(secret, secretNs, ref.name, at, scratch);
    scratch.warningsWithReason().forEach(w -> t.warn(w, where + ": "));
    if (pair == null) {
      scratch.errors().forEach(e -> t.error(at, where + ": " + e.message()));
      return;
    }
    var tls = up.putObject("tls");
    tls.put("client_cert", pair.cert());
    tls.put("client_key", pair.key());
    var ca = TlsSecrets.data(secret, "ca.crt");
    if (ca != null) {
      tls.put("ca", ca);
      tls.put("verify", true);
    }
  }

  /** {@code timeout{connect, send, read}} in seconds; {@code null} when there is none. */
  static ObjectNode timeout(Timeout timeout, String where, String at, Translation t) {
    var out = JsonNodeFactory.instance.objectNode();
    putTimeout(out, "connect", timeout.connect, where, at, t);
    putTimeout(out, "send", timeout.send, where, at, t);
    putTimeout(out, "read", timeout.read, where, at, t);
    return out.isEmpty() ? null : out;
  }

  /**
   * A zero timeout ({@code 0}, {@code 0s}) is the default, as the APISIX Ingress Controller reads
   * its {@code metav1.Duration} (zero is its unset value, and it then uses 60s, the dataplane's
   * default too).
   */
  private static void putTimeout(
      ObjectNode out, String name, String value, String where, String at, Translation t) {
    var s = Durations.seconds(value);
    if (s != null && s == 0) {
      return;
    }
    putSeconds(out, name, value, where, at, t);
  }

  static void putSeconds(
      ObjectNode out, String name, String value, String where, String at, Translation t) {
    if (value == null) {
      return;
    }
    var s = Durations.seconds(value);
    if (s == null || s <= 0) {
      var field = where + "." + name;
      var msg = Exprs.show(value) + " (expected: a duration > 0 such as 5s, 500ms or 1m30s)";
      if (field.startsWith("spec") || field.startsWith("metadata")) {
        t.error(field, msg);
      } else {
        t.error(at, field + ": " + msg);
      }
      return;
    }
    out.put(name, s);
  }

  static ServicePort port(Service svc, IntOrString want) {
    var ports = svc.getSpec() == null ? null : svc.getSpec().getPorts();
    if (ports == null) {
      return null;
    }
    for (var p : ports) {
      if (want.getIntVal() != null
          ? want.getIntVal().equals(p.getPort())
          : want.getStrVal().equals(p.getName())) {
        return p;
      }
    }
    if (want.getStrVal() != null && want.getStrVal().matches("[0-9]+")) {
      return port(svc, new IntOrString(Integer.parseInt(want.getStrVal())));
    }
    return null;
  }

  private static String ports(Service svc) {
    List<ServicePort> ports = svc.getSpec() == null ? null : svc.getSpec().getPorts();
    if (ports == null || ports.isEmpty()) {
      return "no ports";
    }
    return ports.stream()
        .map(
            p ->
                p.getName() == null || p.getName().isEmpty()
                    ? "" + p.getPort()
                    : p.getPort() + " (" + p.getName() + ")")
        .collect(Collectors.joining(", "));
  }

  private static void discovery(ObjectNode up, String ns, String name, String port) {
    up.put("service_name", ns + "/" + name + ":" + port);
    up.put("discovery_type", DISCOVERY);
  }

  static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
