package io.archway.operator.reconciler;

import io.archway.operator.translate.GatewayClassTranslator;
import io.archway.operator.translate.Translation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.util.ArrayList;
import java.util.Objects;

/**
 * GatewayClass of controller {@code archway.io/gateway-controller}: its status ({@code Accepted},
 * {@code SupportedVersion}); nothing in etcd. Its Gateways are reconciled again after each change,
 * since what they are depends on whether their class is ours.
 */
@ControllerConfiguration(name = "gatewayclass")
public final class GatewayClassReconciler extends ResourceReconciler<GatewayClass>
    implements Reconciler<GatewayClass> {

  private final String bundleVersion;
  private final Runnable gatewaysChanged;

  /**
   * @param bundleVersion the installed Gateway API bundle version ({@link GatewayApiCrds})
   * @param gatewaysChanged reconciles the Gateways again (of every class: one may have moved)
   */
  public GatewayClassReconciler(
      OperatorContext ctx, String bundleVersion, Runnable gatewaysChanged) {
    super(ctx);
    this.bundleVersion = bundleVersion;
    this.gatewaysChanged = gatewaysChanged;
  }

  @Override
  Translation translate(GatewayClass r) {
    return GatewayClassTranslator.translate(r, ctx.caches(), bundleVersion);
  }

  @Override
  boolean ours(GatewayClass r) {
    return GatewayClassTranslator.ours(r);
  }

  @Override
  public UpdateControl<GatewayClass> reconcile(GatewayClass r, Context<GatewayClass> context) {
    gatewaysChanged.run();
    if (!ours(r)) {
      return UpdateControl.noUpdate();
    }
    var t = translate(r);
    t.warningsWithReason().forEach(w -> ctx.events().warning(r, w.reason(), w.message()));
    if (!t.ok()) {
      ctx.metrics().invalid(r.getKind());
    }
    var computed = (GatewayClassStatus) t.status();
    var previous = r.getStatus();
    GatewayConditions.merge(
        previous == null ? null : previous.getConditions(),
        computed.getConditions(),
        GatewayConditions.now());
    if (previous != null) {
      // Conditions of other types (another controller's, or newer spec's) are kept.
      var others =
          new ArrayList<>(
              previous.getConditions() == null ? java.util.List.of() : previous.getConditions());
      others.removeIf(
          c -> computed.getConditions().stream().anyMatch(n -> n.getType().equals(c.getType())));
      computed.getConditions().addAll(others);
      computed.setSupportedFeatures(previous.getSupportedFeatures());
    }
    if (Objects.equals(previous, computed)) {
      return UpdateControl.noUpdate();
    }
    r.setStatus(computed);
    return UpdateControl.patchStatus(r);
  }

  @Override
  public io.javaoperatorsdk.operator.api.reconciler.DeleteControl cleanup(
      GatewayClass r, Context<GatewayClass> context) throws Exception {
    gatewaysChanged.run();
    return super.cleanup(r, context);
  }

  /** Not used: the status is the translator's ({@link #reconcile}). */
  @Override
  boolean status(GatewayClass r, Outcome outcome) {
    return false;
  }
}
