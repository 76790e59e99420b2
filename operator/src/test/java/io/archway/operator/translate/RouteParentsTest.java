package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parents and status per parent, shared by every Gateway API route kind. */
class RouteParentsTest {

  @TempDir Path dir;

  private Manifests refs() throws IOException {
    var f = dir.resolve("in.yaml");
    Files.writeString(
        f,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: archway}
        spec: {controllerName: archway.io/gateway-controller}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: theirs}
        spec: {controllerName: example.com/other}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: archway
          listeners:
          - {name: tcp, protocol: TCP, port: 5432}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: other, namespace: default}
        spec:
          gatewayClassName: theirs
          listeners:
          - {name: tcp, protocol: TCP, port: 5432}
        """);
    return new Manifests("default").read(f);
  }

  private static ParentReference parent(String name) {
    return new ParentReferenceBuilder().withName(name).build();
  }

  @Test
  void parentsAreArchwayGatewaysAndMissingOnesInOrder() throws IOException {
    var invalid = new ArrayList<Translation.FieldError>();
    var parents =
        RouteParents.parents(
            "TCPRoute",
            "default",
            List.of(parent("gw"), parent("other"), parent("missing"), new ParentReference()),
            null,
            refs(),
            invalid);
    assertThat(parents).extracting(p -> p.ref().getName()).containsExactly("gw", "missing");
    assertThat(parents.get(0).at().accepted()).isTrue();
    assertThat(parents.get(1).at().reason()).isEqualTo(ListenerAttachment.NO_MATCHING_PARENT);
    assertThat(invalid)
        .extracting(Translation.FieldError::field)
        .containsExactly("spec.parentRefs[3].name");
  }

  @Test
  void statusRefusedWholeIsUnsupportedValueOnEveryParentWithTheFirstRefProblemsReason()
      throws IOException {
    var parents =
        RouteParents.parents(
            "TCPRoute",
            "default",
            List.of(parent("gw"), parent("missing")),
            null,
            refs(),
            new ArrayList<>());
    var status =
        RouteParents.status(
            parents,
            List.of(new Translation.FieldError("spec.rules", "2 rules")),
            List.of(
                new BackendRefs.RefProblem(BackendRefs.REF_NOT_PERMITTED, "one"),
                new BackendRefs.RefProblem(BackendRefs.BACKEND_NOT_FOUND, "two")),
            7L);
    assertThat(status).hasSize(2);
    for (var s : status) {
      assertThat(s.getControllerName()).isEqualTo(RouteParents.CONTROLLER);
      var accepted = s.getConditions().get(0);
      assertThat(accepted.getType()).isEqualTo("Accepted");
      assertThat(accepted.getStatus()).isEqualTo("False");
      assertThat(accepted.getReason()).isEqualTo("UnsupportedValue");
      assertThat(accepted.getObservedGeneration()).isEqualTo(7L);
      var resolved = s.getConditions().get(1);
      assertThat(resolved.getReason()).isEqualTo(BackendRefs.REF_NOT_PERMITTED);
      assertThat(resolved.getMessage()).isEqualTo("one; two");
    }
  }

  @Test
  void statusAcceptedOrTheAttachmentsReason() throws IOException {
    var parents =
        RouteParents.parents(
            "TCPRoute",
            "default",
            List.of(parent("gw"), parent("missing")),
            null,
            refs(),
            new ArrayList<>());
    var status = RouteParents.status(parents, List.of(), List.of(), 1L);
    assertThat(status.get(0).getConditions())
        .extracting(c -> c.getType() + "=" + c.getStatus() + "/" + c.getReason())
        .containsExactly("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs");
    assertThat(status.get(1).getConditions().get(0).getReason()).isEqualTo("NoMatchingParent");
  }

  @Test
  void reportWritesNothingWithoutAnArchwayParentOrWhenRefused() throws IOException {
    var t = new Translation();
    assertThat(RouteParents.report(List.of(), List.of(), List.of(), t)).isFalse();
    assertThat(t.warnings()).anyMatch(w -> w.contains("no parentRef names a Gateway"));
    var parents =
        RouteParents.parents(
            "TCPRoute", "default", List.of(parent("gw")), null, refs(), new ArrayList<>());
    var refused = new Translation();
    assertThat(
            RouteParents.report(
                parents,
                List.of(new Translation.FieldError("spec.rules", "x")),
                List.of(),
                refused))
        .isFalse();
    assertThat(refused.ok()).isFalse();
    assertThat(RouteParents.report(parents, List.of(), List.of(), new Translation())).isTrue();
  }
}
