package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Plugin;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** A list of plugins: the spec of {@link ApisixPluginConfig} and {@link ApisixGlobalRule}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PluginsSpec {

  @JsonPropertyDescription("The IngressClass that serves it; the operator's own when empty.")
  public String ingressClassName;

  @JsonPropertyDescription("The plugins, each with its configuration, as on an ApisixRoute rule.")
  @Required
  public List<Plugin> plugins;
}
