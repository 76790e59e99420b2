package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** What a policy applies to, in the policy's namespace (Gateway API's policy target reference). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PolicyTargetRef {

  @JsonPropertyDescription(
      "The target's API group: \"\" for a Service, networking.k8s.io for an Ingress.")
  public String group;

  @JsonPropertyDescription("The target's kind: Service, Ingress, HTTPRoute, TCPRoute ...")
  @Required
  public String kind;

  @JsonPropertyDescription("The target's name, in the policy's namespace.")
  @Required
  public String name;

  @JsonPropertyDescription(
      "A part of the target: for a Service, the name of one of its ports (the policy then applies"
          + " to that port only).")
  public String sectionName;
}
