package io.archway.operator.testing;

import io.archway.crds.Status;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Optional;
import java.util.Queue;

/**
 * The Kubernetes API stand-in: fabric8's mock server in CRUD mode (no real API server can run
 * here), with Archway's CRDs from {@code manifests/crds} applied.
 */
public final class KubeMock implements AutoCloseable {

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  public KubeMock() {
    var responses = new HashMap<ServerRequest, Queue<ServerResponse>>();
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
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

  /**
   * The upstream Gateway API bundle's CRDs (GatewayClass, Gateway, HTTPRoute, ReferenceGrant),
   * reduced to what detection reads (group, kind, versions), for the mock API server.
   */
  public static java.util.List<
          io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition>
      gatewayApiCrds(String bundleVersion) {
    return java.util.List.of(
            "GatewayClass gatewayclasses Cluster v1,v1beta1",
            "Gateway gateways Namespaced v1,v1beta1",
            "HTTPRoute httproutes Namespaced v1,v1beta1",
            "ReferenceGrant referencegrants Namespaced v1beta1")
        .stream()
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
              return io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
                  "apiVersion: apiextensions.k8s.io/v1\n"
                      + "kind: CustomResourceDefinition\n"
                      + "metadata:\n  name: "
                      + f[1]
                      + ".gateway.networking.k8s.io\n  annotations: {"
                      + io.archway.operator.translate.GatewayApi.BUNDLE_VERSION_ANNOTATION
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
                  io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class);
            })
        .toList();
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
