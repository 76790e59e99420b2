package io.archway.operator.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * What every Gateway API route kind (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute) shares
 * about its parents: which {@code parentRefs} name an Archway Gateway and which listeners each
 * attaches to ({@link ListenerAttachment}), and the status per parent ({@code Accepted}, {@code
 * ResolvedRefs}) built from that, from what refuses the route and from the references that do not
 * resolve.
 */
public final class RouteParents {

  public static final String CONTROLLER = "archway.io/gateway-controller";
  public static final String ACCEPTED = "Accepted";
  public static final String RESOLVED_REFS = "ResolvedRefs";
  public static final String UNSUPPORTED_VALUE = "UnsupportedValue";

  private RouteParents() {}

  /** A parentRef of the route that names an Archway Gateway (or one that does not exist). */
  record Parent(ParentReference ref, String field, Gateway gateway, ListenerAttachment.Result at) {}

  /**
   * The parents of a route of kind {@code kind} in {@code ns}, in {@code parentRefs} order: those
   * naming a Gateway of Archway's class, or a Gateway that does not exist ({@code
   * NoMatchingParent}). A parentRef without a name is added to {@code invalid}; one to another kind
   * (a Service: GAMMA) or to another controller's Gateway is left out (not Archway's to answer).
   */
  static List<Parent> parents(
      String kind,
      String ns,
      List<ParentReference> parentRefs,
      List<String> hostnames,
      Refs refs,
      List<Translation.FieldError> invalid) {
    var out = new ArrayList<Parent>();
    var list = parentRefs == null ? List.<ParentReference>of() : parentRefs;
    for (int i = 0; i < list.size(); i++) {
      var ref = list.get(i);
      var field = "spec.parentRefs[" + i + "]";
      if (ref == null || ref.getName() == null || ref.getName().isEmpty()) {
        invalid.add(new Translation.FieldError(field + ".name", "missing (expected: a name)"));
        continue;
      }
      if (!ListenerAttachment.isGateway(ref)) {
        continue;
      }
      var gwNs = ListenerAttachment.namespace(ref, ns);
      var gw = refs.gateway(gwNs, ref.getName());
      if (gw.isEmpty()) {
        out.add(
            new Parent(
                ref,
                field,
                null,
                ListenerAttachment.Result.refused(
                    ListenerAttachment.NO_MATCHING_PARENT,
                    "Gateway " + gwNs + "/" + ref.getName() + " not found")));
        continue;
      }
      if (!ours(gw.get(), refs)) {
        continue;
      }
      var at = ListenerAttachment.attach(kind, ns, hostnames, ref, gw.get(), refs::namespace);
      out.add(new Parent(ref, field, gw.get(), notAccepted(at, gw.get(), refs)));
    }
    return out;
  }

  /**
   * A Gateway that is not accepted (its class is not, or its parameters cannot be used) serves no
   * listener, so no listener of it takes the route: {@code NotAllowedByListeners} (Gateway API v1.2
   * has no reason of its own for this), the message naming the Gateway and why. An attachment
   * refused already keeps its own reason.
   */
  private static ListenerAttachment.Result notAccepted(
      ListenerAttachment.Result at, Gateway gw, Refs refs) {
    if (!at.accepted()) {
      return at;
    }
    var admission = GatewayParametersTranslator.admission(gw, refs);
    if (admission.reason() == null) {
      return at;
    }
    return ListenerAttachment.Result.refused(
        ListenerAttachment.NOT_ALLOWED_BY_LISTENERS,
        "Gateway "
            + gw.getMetadata().getNamespace()
            + "/"
            + gw.getMetadata().getName()
            + " is not accepted ("
            + admission.reason()
            + ": "
            + admission.message()
            + "), so none of its listeners takes routes");
  }

  /**
   * Whether {@code gw}'s GatewayClass is Archway's. Offline (files given to the CLI) a class that
   * is not among them is taken to be.
   */
  static boolean ours(Gateway gw, Refs refs) {
    var className = gw.getSpec() == null ? null : gw.getSpec().getGatewayClassName();
    if (className == null) {
      return false;
    }
    var gc = refs.gatewayClass(className);
    if (gc.isEmpty()) {
      return refs.offline();
    }
    return gc.get().getSpec() != null && CONTROLLER.equals(gc.get().getSpec().getControllerName());
  }

  /** The key of a listener a route attaches to: {@code gatewayNamespace/gateway/listener}. */
  static String listenerKey(Parent p, ListenerAttachment.Attached a) {
    var gw = p.gateway().getMetadata();
    return gw.getNamespace() + "/" + gw.getName() + "/" + a.listener().getName();
  }

  /**
   * One {@code RouteParentStatus} per parent: {@code Accepted} ({@code UnsupportedValue} with the
   * messages of {@code invalid} when the route is refused whole, else the attachment's outcome) and
   * {@code ResolvedRefs} (the first problem's reason, every message), each with {@code
   * observedGeneration}; {@code lastTransitionTime} is the writer's.
   */
  static List<RouteParentStatus> status(
      List<Parent> parents,
      List<Translation.FieldError> invalid,
      List<BackendRefs.RefProblem> problems,
      Long generation) {
    var out = new ArrayList<RouteParentStatus>();
    for (var p : parents) {
      Condition accepted =
          invalid.isEmpty()
              ? condition(
                  ACCEPTED, p.at().accepted(), p.at().reason(), p.at().message(), generation)
              : condition(
                  ACCEPTED,
                  false,
                  UNSUPPORTED_VALUE,
                  String.join("; ", invalid.stream().map(Object::toString).toList()),
                  generation);
      var resolved =
          problems.isEmpty()
              ? condition(RESOLVED_REFS, true, RESOLVED_REFS, "all references resolved", generation)
              : condition(
                  RESOLVED_REFS,
                  false,
                  problems.get(0).reason(),
                  String.join(
                      "; ", problems.stream().map(BackendRefs.RefProblem::message).toList()),
                  generation);
      out.add(
          new RouteParentStatusBuilder()
              .withControllerName(CONTROLLER)
              .withParentRef(p.ref())
              .withConditions(accepted, resolved)
              .build());
    }
    return out;
  }

  static Condition condition(
      String type, boolean ok, String reason, String message, Long generation) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(ok ? "True" : "False")
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .build();
  }

  /**
   * The translation's part of the parents: a warning per parent that takes no routes, and the
   * refusal as errors. False when nothing is to be written (no Archway parent, or refused whole).
   */
  static boolean report(
      List<Parent> parents,
      List<Translation.FieldError> invalid,
      List<BackendRefs.RefProblem> problems,
      Translation t) {
    if (parents.isEmpty()) {
      // No parent is an Archway Gateway: the route is another controller's (or no one's).
      t.warn("NoArchwayParent", "no parentRef names a Gateway of Archway's GatewayClass");
      return false;
    }
    for (var e : invalid) {
      t.error(e.field(), e.message());
    }
    if (!invalid.isEmpty()) {
      return false;
    }
    for (var p : problems) {
      t.warn(p.reason(), p.message());
    }
    for (var p : parents) {
      if (!p.at().accepted()) {
        t.warn(p.at().reason(), p.field() + ": " + p.at().message());
      }
    }
    return true;
  }
}
