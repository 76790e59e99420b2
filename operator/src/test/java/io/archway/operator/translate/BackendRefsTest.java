package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** backendRef resolution shared by every Gateway API route kind. */
class BackendRefsTest {

  @TempDir Path dir;

  private Manifests refs() throws IOException {
    var f = dir.resolve("in.yaml");
    Files.writeString(
        f,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: a, namespace: default}
        spec: {ports: [{port: 80, appProtocol: kubernetes.io/h2c}, {port: 81}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: b, namespace: other}
        spec: {ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: c, namespace: granted}
        spec: {ports: [{port: 80}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: g, namespace: granted}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: default}]
          to: [{group: "", kind: Service, name: c}]
        """);
    return new Manifests("default").read(f);
  }

  private static BackendRefs.Ref ref(String ns, String name, Integer port) {
    return new BackendRefs.Ref(null, null, name, ns, port);
  }

  @Test
  void aServiceOfTheRoutesNamespaceWithThePortResolves() throws IOException {
    assertThat(BackendRefs.problem("TCPRoute", "default", ref(null, "a", 81), "at", null, refs()))
        .isNull();
  }

  @Test
  void eachReasonOfTheSpec() throws IOException {
    var refs = refs();
    assertThat(BackendRefs.problem("TCPRoute", "default", ref(null, "x", 80), "at", null, refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.BACKEND_NOT_FOUND);
    assertThat(BackendRefs.problem("TCPRoute", "default", ref(null, "a", 99), "at", null, refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.BACKEND_NOT_FOUND);
    assertThat(
            BackendRefs.problem(
                "TCPRoute",
                "default",
                new BackendRefs.Ref("example.com", "Thing", "a", null, 80),
                "at",
                null,
                refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.INVALID_KIND);
    assertThat(BackendRefs.problem("TCPRoute", "default", ref("other", "b", 80), "at", null, refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.REF_NOT_PERMITTED);
    assertThat(
            BackendRefs.problem(
                "TCPRoute", "default", ref(null, "a", 80), "at", Set.of("http"), refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.UNSUPPORTED_PROTOCOL);
  }

  @Test
  void aReferenceGrantAllowsTheKindAndNamespaceItNamesOnly() throws IOException {
    var refs = refs();
    assertThat(
            BackendRefs.problem("TCPRoute", "default", ref("granted", "c", 80), "at", null, refs))
        .isNull();
    // Another route kind, or another namespace, is not granted.
    assertThat(
            BackendRefs.problem("UDPRoute", "default", ref("granted", "c", 80), "at", null, refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.REF_NOT_PERMITTED);
    assertThat(BackendRefs.problem("TCPRoute", "shop", ref("granted", "c", 80), "at", null, refs))
        .extracting(BackendRefs.RefProblem::reason)
        .isEqualTo(BackendRefs.REF_NOT_PERMITTED);
  }

  @Test
  void appProtocolOfThePort() throws IOException {
    var refs = refs();
    assertThat(BackendRefs.appProtocol(ref(null, "a", 80), "default", refs))
        .isEqualTo("kubernetes.io/h2c");
    assertThat(BackendRefs.appProtocol(ref(null, "a", 81), "default", refs)).isNull();
  }
}
