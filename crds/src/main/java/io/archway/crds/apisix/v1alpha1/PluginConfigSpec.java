package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.archway.crds.Plugin;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The plugins of a {@link PluginConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PluginConfigSpec {

  @JsonPropertyDescription("The plugins and their configurations.")
  @Required
  public List<Plugin> plugins;
}
