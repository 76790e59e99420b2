package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The settings of an {@link HTTPRoutePolicy}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HTTPRoutePolicySpec {

  @JsonPropertyDescription(
      "The Ingresses (kind Ingress, group networking.k8s.io) whose routes get these settings.")
  @Required
  public List<PolicyTargetRef> targetRefs;

  @JsonPropertyDescription("The routes' priority: higher is matched first.")
  public Long priority;

  @JsonPropertyDescription(
      "More match conditions, in APISIX's vars form: [[\"http_x_env\", \"==\", \"prod\"]].")
  @PreserveUnknownFields
  public List<JsonNode> vars;
}
