package io.archway.operator.testing;

import io.archway.crds.Status;
import io.archway.operator.translate.GatewayApi;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.CustomResourceAware;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.Resetable;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.internal.MockDispatcher;
import io.fabric8.mockwebserver.internal.SimpleRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;

/**
 * The Kubernetes API stand-in: fabric8's mock server in CRUD mode (no real API server can run
 * here), with Archway's CRDs from {@code manifests/crds} applied. {@link #indexed()} is the same
 * store with its lookups by name indexed, for benchmarks that hold thousands of objects.
 */
public final class KubeMock implements AutoCloseable {

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  public KubeMock() {
    this(false);
  }

  /** A stand-in whose store finds an object by name without matching every other one. */
  public static KubeMock indexed() {
    return new KubeMock(true);
  }

  private KubeMock(boolean indexed) {
    var responses = new HashMap<ServerRequest, Queue<ServerResponse>>();
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            responses,
            indexed
                ? new IndexedMixedDispatcher(responses)
                : new KubernetesMixedDispatcher(responses),
            false);
    server.init();
    // The one call the CRUD store cannot answer: leader election asks whether it may use Leases.
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            """
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
             "metadata": {}, "spec": {},
             "status": {"incomplete": false, "nonResourceRules": [],
               "resourceRules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                                  "verbs": ["*"]}]}}
            """)
        .always();
    client = server.createClient();
    // From a module (tests) or from the repository root (bench).
    var crds =
        Files.isDirectory(Path.of("manifests", "crds"))
            ? Path.of("manifests", "crds")
            : Path.of("..", "manifests", "crds");
    try (var files = Files.list(crds)) {
      for (var f : files.sorted().toList()) {
        try (var in = Files.newInputStream(f)) {
          client.load(in).create();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The Gateway API CRDs of the standard channel's {@code v1} kinds: {@code kind plural scope
   * versions} (the first {@code v1}, else the only one, is the storage version).
   */
  public static final List<String> GATEWAY_API_STANDARD =
      List.of(
          "GatewayClass gatewayclasses Cluster v1,v1beta1",
          "Gateway gateways Namespaced v1,v1beta1",
          "HTTPRoute httproutes Namespaced v1,v1beta1",
          "ReferenceGrant referencegrants Namespaced v1beta1");

  /** The other route kinds: GRPCRoute {@code v1}, the experimental L4 kinds {@code v1alpha2}. */
  public static final List<String> GATEWAY_API_ROUTE_KINDS =
      List.of(
          "GRPCRoute grpcroutes Namespaced v1",
          "TLSRoute tlsroutes Namespaced v1alpha2",
          "TCPRoute tcproutes Namespaced v1alpha2",
          "UDPRoute udproutes Namespaced v1alpha2");

  /**
   * Gateway API CRDs as the upstream bundle declares them, reduced to what the operator reads
   * (group, kind, versions, the bundle-version annotation) with an open schema and a status
   * subresource; {@code lines} as in {@link #GATEWAY_API_STANDARD}.
   */
  public static List<CustomResourceDefinition> gatewayApiCrds(
      String bundleVersion, List<String> lines) {
    return lines.stream()
        .map(
            line -> {
              var f = line.split(" ");
              var versions = new StringBuilder();
              for (var v : f[3].split(",")) {
                versions
                    .append("  - name: ")
                    .append(v)
                    .append("\n    served: true\n    storage: ")
                    .append(v.equals("v1") || f[3].equals(v))
                    .append("\n    subresources: {status: {}}\n")
                    .append(
                        "    schema: {openAPIV3Schema: {type: object,"
                            + " x-kubernetes-preserve-unknown-fields: true}}\n");
              }
              return Serialization.unmarshal(
                  "apiVersion: apiextensions.k8s.io/v1\n"
                      + "kind: CustomResourceDefinition\n"
                      + "metadata:\n  name: "
                      + f[1]
                      + ".gateway.networking.k8s.io\n  annotations: {"
                      + GatewayApi.BUNDLE_VERSION_ANNOTATION
                      + ": "
                      + bundleVersion
                      + "}\n"
                      + "spec:\n  group: gateway.networking.k8s.io\n  scope: "
                      + f[2]
                      + "\n  names: {kind: "
                      + f[0]
                      + ", plural: "
                      + f[1]
                      + ", singular: "
                      + f[0].toLowerCase()
                      + "}\n  versions:\n"
                      + versions,
                  CustomResourceDefinition.class);
            })
        .toList();
  }

  /** Creates the CRDs of every Gateway API kind Archway serves, of the targeted bundle version. */
  public void installGatewayApi() {
    for (var lines : List.of(GATEWAY_API_STANDARD, GATEWAY_API_ROUTE_KINDS)) {
      for (var crd : gatewayApiCrds(GatewayApi.BUNDLE_VERSION, lines)) {
        client.resource(crd).create();
      }
    }
  }

  /** A client of its own, as a second operator replica would have. */
  public KubernetesClient newClient() {
    return server.createClient();
  }

  public KubernetesClient client() {
    return client;
  }

  /** The condition of that type on a custom resource's status, if any. */
  public static Optional<Condition> condition(HasMetadata r, String type) {
    if (r == null) {
      return Optional.empty();
    }
    Status status;
    try {
      status = (Status) r.getClass().getMethod("getStatus").invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
    return status == null || status.conditions == null
        ? Optional.empty()
        : status.conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** {@link KubernetesMixedDispatcher} over {@link IndexedCrudDispatcher}: expectations first. */
  private static final class IndexedMixedDispatcher extends Dispatcher
      implements Resetable, CustomResourceAware {

    private final Map<ServerRequest, Queue<ServerResponse>> responses;
    private final MockDispatcher expectations;
    private final IndexedCrudDispatcher crud = new IndexedCrudDispatcher();

    IndexedMixedDispatcher(Map<ServerRequest, Queue<ServerResponse>> responses) {
      this.responses = responses;
      this.expectations = new MockDispatcher(responses);
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      var queue =
          responses.get(
              new SimpleRequest(HttpMethod.valueOf(request.getMethod()), request.getPath()));
      return queue != null && !queue.isEmpty()
          ? expectations.dispatch(request)
          : crud.dispatch(request);
    }

    @Override
    public void reset() {
      crud.reset();
    }

    @Override
    public void expectCustomResource(CustomResourceDefinitionContext context) {
      crud.expectCustomResource(context);
    }
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
