package io.archway.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Required;

/** A plugin run by a route, with its configuration. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Plugin {

  @JsonPropertyDescription("The plugin's name, e.g. proxy-rewrite, limit-count, cors.")
  @Required
  public String name;

  @JsonPropertyDescription("Whether the plugin runs; a disabled plugin is left out. Default true.")
  public Boolean enable;

  @JsonPropertyDescription("The plugin's configuration, as APISIX takes it.")
  @PreserveUnknownFields
  public JsonNode config;

  @JsonPropertyDescription(
      "A Secret in the same namespace whose keys are merged into config (top-level keys, or"
          + " paths such as conf.key_a.key_b), for values that must not sit in the route.")
  public String secretRef;
}
