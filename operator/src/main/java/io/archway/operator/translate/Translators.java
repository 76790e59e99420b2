package io.archway.operator.translate;

import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.archway.PluginFlow;
import io.archway.crds.archway.StreamRoute;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.util.List;
import java.util.Optional;

/** The translator for each kind of resource, and the claims it makes on hosts and paths. */
public final class Translators {

  private Translators() {}

  /** The translation of {@code r}, or empty when it is not a kind Archway translates. */
  public static Optional<Translation> translate(HasMetadata r, Refs refs) {
    return Optional.ofNullable(
        switch (r) {
          case ApisixRoute ar -> ApisixRouteTranslator.translate(ar, refs);
          case ApisixUpstream au -> ApisixUpstreamTranslator.translate(au, refs);
          case io.archway.crds.apisix.ApisixTls tls -> ApisixTlsTranslator.translate(tls, refs);
          case io.archway.crds.apisix.ApisixConsumer c ->
              ApisixConsumerTranslator.translate(c, refs);
          case io.archway.crds.apisix.ApisixPluginConfig pc ->
              ApisixPluginConfigTranslator.translate(pc, refs);
          case io.archway.crds.apisix.ApisixGlobalRule gr ->
              ApisixGlobalRuleTranslator.translate(gr, refs);
          case io.archway.crds.apisix.ApisixClusterConfig cc ->
              ApisixClusterConfigTranslator.translate(cc, refs);
          case StreamRoute sr -> StreamRouteTranslator.translate(sr, refs);
          case PluginFlow pf -> PluginFlowTranslator.translate(pf, refs);
          case io.archway.crds.archway.GatewayParameters p ->
              GatewayParametersTranslator.translate(p, refs);
          case Ingress ing -> IngressTranslator.translate(ing, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute hr ->
              HTTPRouteTranslator.translate(hr, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute gr ->
              GRPCRouteTranslator.translate(gr, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute l4 ->
              L4RouteTranslator.translate(l4, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute l4 ->
              L4RouteTranslator.translate(l4, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute l4 ->
              L4RouteTranslator.translate(l4, refs);
          case io.fabric8.kubernetes.api.model.networking.v1.IngressClass ic ->
              IngressClassTranslator.translate(ic, refs);
          case io.archway.crds.apisix.v1alpha1.PluginConfig pc ->
              PluginConfigTranslator.translate(pc, refs);
          case io.archway.crds.apisix.v1alpha1.Consumer c -> ConsumerTranslator.translate(c, refs);
          case io.archway.crds.apisix.v1alpha1.GatewayProxy gp ->
              GatewayProxyTranslator.translate(gp, refs);
          case io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy p ->
              BackendTrafficPolicyTranslator.translate(p, refs);
          case io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy p ->
              HTTPRoutePolicyTranslator.translate(p, refs);
          case io.archway.crds.apisix.v1alpha1.L4RoutePolicy p ->
              L4RoutePolicyTranslator.translate(p, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass gc ->
              GatewayClassTranslator.translate(gc, refs);
          case io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway gw ->
              GatewayTranslator.translate(gw, refs);
          default -> null;
        });
  }

  public static List<Claim> claims(HasMetadata r) {
    return claims(r, null);
  }

  /** As {@link #claims(HasMetadata)}, with the policies {@code refs} hold (may be null). */
  public static List<Claim> claims(HasMetadata r, Refs refs) {
    return switch (r) {
      case ApisixRoute ar -> ApisixRouteTranslator.claims(ar);
      case Ingress ing -> IngressTranslator.claims(ing, refs);
      default -> List.of();
    };
  }

  /** Whether the claims of {@code r} depend on the policies {@code refs} hold (HTTPRoutePolicy). */
  public static boolean claimsUseRefs(HasMetadata r) {
    return r instanceof Ingress;
  }
}
