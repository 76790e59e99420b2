package io.archway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.testing.Ports;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowingConsumer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The conformance suite's set-up, shared by its classes: one {@link ArchwayStack} (operator and
 * dataplane processes, real etcd, fabric8's mock API server in CRUD mode standing in for the API
 * server) for the whole run, started by the first class and stopped at the end; the real backends
 * of {@link Backends} behind Services and EndpointSlices (the operator resolves them: control-plane
 * discovery); and the upstream suite's base objects: its namespaces, the GatewayClass {@code
 * archway} and the Gateways {@code same-namespace}, {@code all-namespaces} and {@code
 * backend-namespaces}, each with an HTTP listener on a port of its own. Objects a test applies
 * through {@link #apply} are deleted after it.
 */
final class Conformance implements BeforeAllCallback, AfterEachCallback {

  static final String INFRA = "gateway-conformance-infra";
  static final String APP = "gateway-conformance-app-backend";
  static final String WEB = "gateway-conformance-web-backend";
  static final String CLASS = "archway";
  static final String CONTROLLER = "archway.io/gateway-controller";
  static final Duration WAIT = ArchwayStack.WAIT;

  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "Gateway", Gateway.class,
          "GatewayClass", GatewayClass.class,
          "HTTPRoute", HTTPRoute.class,
          "GRPCRoute", GRPCRoute.class,
          "TLSRoute", TLSRoute.class,
          "TCPRoute", TCPRoute.class,
          "UDPRoute", UDPRoute.class,
          "ReferenceGrant", ReferenceGrant.class,
          "Secret", Secret.class,
          "Service", Service.class);

  /** What the whole run shares; closed by JUnit at the end of the run. */
  static final class Shared implements AutoCloseable {
    final ArchwayStack stack;
    final Map<String, Backends.Backend> backends = new LinkedHashMap<>();
    final Map<String, Integer> gatewayPorts = new LinkedHashMap<>();

    Shared() throws Exception {
      var dir = Files.createTempDirectory("archway-conformance");
      System.out.println("conformance: operator and dataplane logs in " + dir);
      stack = ArchwayStack.start(dir, new ArchwayStack.Options("all", true, List.of("--h2c")));
    }

    @Override
    public void close() {
      stack.close();
      backends.values().forEach(Backends.Backend::close);
    }
  }

  private Shared shared;
  private final List<HasMetadata> created = new ArrayList<>();

  @Override
  public void beforeAll(ExtensionContext context) {
    shared =
        context
            .getRoot()
            .getStore(ExtensionContext.Namespace.create(Conformance.class))
            .getOrComputeIfAbsent(
                "shared",
                k -> {
                  try {
                    var s = new Shared();
                    base(s);
                    return s;
                  } catch (Exception e) {
                    throw new IllegalStateException("conformance set-up failed", e);
                  }
                },
                Shared.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    for (var r : created.reversed()) {
      shared.stack.client().resource(r).delete();
    }
    created.clear();
  }

  private static void base(Shared s) throws Exception {
    var stack = s.stack;
    stack.apply(
        """
        apiVersion: v1
        kind: Namespace
        metadata: {name: INFRA, labels: {gateway-conformance: infra}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: APP, labels: {gateway-conformance: backend}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: WEB, labels: {gateway-conformance: backend}}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: archway}
        spec: {controllerName: archway.io/gateway-controller}
        """
            .replace("INFRA", INFRA)
            .replace("APP", APP)
            .replace("WEB", WEB));
    for (var name : List.of("infra-backend-v1", "infra-backend-v2", "infra-backend-v3")) {
      backend(s, INFRA, new Backends.HttpEcho(name));
    }
    backend(s, APP, new Backends.HttpEcho("app-backend-v1"));
    backend(s, APP, new Backends.HttpEcho("app-backend-v2"));
    backend(s, WEB, new Backends.HttpEcho("web-backend"));
    for (var name : List.of("grpc-infra-backend-v1", "grpc-infra-backend-v2")) {
      backend(s, INFRA, new Backends.GrpcEcho(name));
    }
    backend(s, INFRA, new Backends.TlsEcho("tls-backend", selfSigned("abc.example.com")));
    backend(s, INFRA, new Backends.TcpEcho("tcp-backend"));
    backend(s, INFRA, new Backends.UdpEcho("udp-backend"));
    backend(s, INFRA, new Backends.H2cEcho("h2c-backend"), "kubernetes.io/h2c");
    backend(s, INFRA, new Backends.WsEcho("ws-backend"), "kubernetes.io/ws");
    for (var gw :
        List.of(
            "same-namespace {namespaces: {from: Same}}",
            "all-namespaces {namespaces: {from: All}}",
            "backend-namespaces {namespaces: {from: Selector, selector: {matchLabels:"
                + " {gateway-conformance: backend}}}}")) {
      var name = gw.substring(0, gw.indexOf(' '));
      int port = Ports.free();
      s.gatewayPorts.put(name, port);
      stack.apply(
          gateway(name, "- {name: http, port: PORT, protocol: HTTP, allowedRoutes: ALLOWED}")
              .replace("PORT", "" + port)
              .replace("ALLOWED", gw.substring(gw.indexOf(' ') + 1)));
    }
    for (var name : s.gatewayPorts.keySet()) {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(condition(status(s, "Gateway", INFRA, name), "Programmed"))
                      .isEqualTo("True/Programmed"));
    }
  }

  /** A Gateway of the class {@code archway} in the infra namespace: its name and listener lines. */
  static String gateway(String name, String listeners) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: NAME, namespace: INFRA}
        spec:
          gatewayClassName: archway
          listeners:
        """
            .replace("NAME", name)
            .replace("INFRA", INFRA)
        + listeners.stripIndent().indent(2);
  }

  /** A Service (port 8080, as the upstream suite's) whose endpoint is the backend. */
  private static void backend(Shared s, String ns, Backends.Backend b) {
    backend(s, ns, b, null);
  }

  /** The same, the Service port of that {@code appProtocol} (null: none). */
  private static void backend(Shared s, String ns, Backends.Backend b, String appProtocol) {
    s.backends.put(b.name(), b);
    s.stack.apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: NAME, namespace: NS}
        spec: {ports: [{name: p, port: 8080, targetPort: REALPROTO}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: NAME-1, namespace: NS, labels: {kubernetes.io/service-name: NAME}}
        addressType: IPv4
        ports: [{name: p, port: REAL}]
        endpoints:
        - {addresses: [127.0.0.1], conditions: {ready: true}}
        """
            .replace("NAME", b.name())
            .replace("NS", ns)
            .replace("PROTO", appProtocol == null ? "" : ", appProtocol: " + appProtocol)
            .replace("REAL", "" + b.port()));
  }

  /** A self-signed server certificate for those names (the first is the subject's CN). */
  static X509Bundle selfSigned(String... names) throws Exception {
    var b =
        new CertificateBuilder()
            .subject("CN=" + names[0])
            .setIsCertificateAuthority(true)
            .addExtendedKeyUsageServerAuth();
    for (var n : names) {
      b.addSanDnsName(n);
    }
    return b.ecp256().buildSelfSigned();
  }

  /** A {@code kubernetes.io/tls} Secret of that certificate, as YAML. */
  static String tlsSecret(String ns, String name, X509Bundle cert) {
    var enc = Base64.getEncoder();
    return """
        apiVersion: v1
        kind: Secret
        metadata: {name: NAME, namespace: NS}
        type: kubernetes.io/tls
        data: {tls.crt: CRT, tls.key: KEY}
        """
        .replace("NAME", name)
        .replace("NS", ns)
        .replace(
            "CRT", enc.encodeToString(cert.getCertificatePEM().getBytes(StandardCharsets.UTF_8)))
        .replace(
            "KEY", enc.encodeToString(cert.getPrivateKeyPEM().getBytes(StandardCharsets.UTF_8)));
  }

  ArchwayStack stack() {
    return shared.stack;
  }

  /** The port of a base Gateway's HTTP listener. */
  int port(String gateway) {
    return shared.gatewayPorts.get(gateway);
  }

  Backends.Backend backend(String name) {
    return shared.backends.get(name);
  }

  /** Applies a YAML stream (placeholders already replaced); the objects go after the test. */
  List<HasMetadata> apply(String yaml) {
    var items = shared.stack.apply(yaml.replace("INFRA", INFRA));
    for (var i : items) {
      if (created.stream().noneMatch(c -> same(c, i))) {
        created.add(i);
      }
    }
    return items;
  }

  private static boolean same(HasMetadata a, HasMetadata b) {
    return a.getKind().equals(b.getKind())
        && a.getMetadata().getName().equals(b.getMetadata().getName())
        && java.util.Objects.equals(a.getMetadata().getNamespace(), b.getMetadata().getNamespace());
  }

  /** Deletes an object now (and forgets it). */
  void delete(String kind, String ns, String name) {
    var r = shared.stack.client().resources(KINDS.get(kind)).inNamespace(ns).withName(name);
    r.delete();
    created.removeIf(c -> c.getKind().equals(kind) && c.getMetadata().getName().equals(name));
  }

  /** The object as JSON (null when missing). */
  JsonNode status(String kind, String ns, String name) {
    return status(shared, kind, ns, name);
  }

  private static JsonNode status(Shared s, String kind, String ns, String name) {
    var c = s.stack.client().resources(KINDS.get(kind));
    var r = ns == null ? c.withName(name).get() : c.inNamespace(ns).withName(name).get();
    return r == null ? null : Serialization.jsonMapper().valueToTree(r);
  }

  /** {@code status/reason} of the condition of that type in {@code status.conditions}. */
  static String condition(JsonNode object, String type) {
    return object == null ? null : conditionIn(object.path("status").path("conditions"), type);
  }

  private static String conditionIn(JsonNode conditions, String type) {
    for (var c : conditions) {
      if (type.equals(c.path("type").asText())) {
        return c.path("status").asText() + "/" + c.path("reason").asText();
      }
    }
    return null;
  }

  /** The Gateway's listener status of that name (missing node when none). */
  static JsonNode listener(JsonNode gateway, String name) {
    for (var l : gateway.path("status").path("listeners")) {
      if (name.equals(l.path("name").asText())) {
        return l;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** {@code status/reason} of a listener's condition. */
  static String listenerCondition(JsonNode gateway, String listener, String type) {
    return conditionIn(listener(gateway, listener).path("conditions"), type);
  }

  /** Our {@code status.parents} entry of a route for that Gateway (missing node when none). */
  static JsonNode parent(JsonNode route, String gateway) {
    for (var p : route.path("status").path("parents")) {
      if (CONTROLLER.equals(p.path("controllerName").asText())
          && gateway.equals(p.path("parentRef").path("name").asText())) {
        return p;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** {@code status/reason} of a route's condition for that parent Gateway. */
  static String parentCondition(JsonNode route, String gateway, String type) {
    return route == null ? null : conditionIn(parent(route, gateway).path("conditions"), type);
  }

  /** Waits until the route is accepted by that Gateway with its references resolved. */
  void awaitAccepted(String kind, String ns, String name, String gateway) {
    awaitRoute(kind, ns, name, gateway, "Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs");
  }

  /** Waits until the route's conditions for that Gateway are these ({@code type=status/reason}). */
  void awaitRoute(String kind, String ns, String name, String gateway, String... expected) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var r = status(kind, ns, name);
              for (var e : expected) {
                var type = e.substring(0, e.indexOf('='));
                assertThat(parentCondition(r, gateway, type))
                    .as("%s %s/%s parent %s %s", kind, ns, name, gateway, type)
                    .isEqualTo(e.substring(e.indexOf('=') + 1));
              }
            });
  }

  /** Waits until the Gateway's conditions are these ({@code type=status/reason}). */
  void awaitGateway(String ns, String name, String... expected) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var g = status("Gateway", ns, name);
              for (var e : expected) {
                var type = e.substring(0, e.indexOf('='));
                assertThat(condition(g, type))
                    .as("Gateway %s/%s %s", ns, name, type)
                    .isEqualTo(e.substring(e.indexOf('=') + 1));
              }
            });
  }

  /** Waits until the listener's conditions are these ({@code type=status/reason}). */
  void awaitListener(String ns, String gateway, String listener, String... expected) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var g = status("Gateway", ns, gateway);
              for (var e : expected) {
                var type = e.substring(0, e.indexOf('='));
                assertThat(listenerCondition(g, listener, type))
                    .as("Gateway %s/%s listener %s %s", ns, gateway, listener, type)
                    .isEqualTo(e.substring(e.indexOf('=') + 1));
              }
            });
  }

  /** Waits until an HTTP request to the port gets an answer the assertion accepts. */
  Wire.Response awaitHttp(int port, Wire.Request r, ThrowingConsumer<Wire.Response> check) {
    var last = new Wire.Response[1];
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              last[0] = Wire.http(port, r);
              check.accept(last[0]);
            });
    return last[0];
  }

  /** Waits until the request reaches that backend (200). */
  Wire.Response awaitBackend(int port, Wire.Request r, String backend) {
    return awaitHttp(
        port,
        r,
        a -> {
          assertThat(a.status()).as("status of %s", r).isEqualTo(200);
          assertThat(a.backend()).as("backend of %s", r).isEqualTo(backend);
        });
  }

  /** Waits until the request gets that status. */
  Wire.Response awaitStatus(int port, Wire.Request r, int status) {
    return awaitHttp(port, r, a -> assertThat(a.status()).as("status of %s", r).isEqualTo(status));
  }
}
