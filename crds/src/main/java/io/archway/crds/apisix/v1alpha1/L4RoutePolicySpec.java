package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Plugin;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The settings of an {@link L4RoutePolicy}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class L4RoutePolicySpec {

  @JsonPropertyDescription("The TCPRoutes, UDPRoutes or TLSRoutes (Gateway API) it applies to.")
  @Required
  public List<PolicyTargetRef> targetRefs;

  @JsonPropertyDescription("Stream plugins for those routes.")
  public List<Plugin> plugins;
}
