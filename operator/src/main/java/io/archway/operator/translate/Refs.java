package io.archway.operator.translate;

import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.archway.PluginFlow;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import java.util.Optional;

/**
 * What translators may look up besides the resource itself. In the operator it reads the informer
 * caches; in {@code archway-operator translate|validate} it reads the files given.
 */
public interface Refs {

  Optional<Service> service(String namespace, String name);

  Optional<Secret> secret(String namespace, String name);

  Optional<ApisixUpstream> apisixUpstream(String namespace, String name);

  Optional<PluginFlow> pluginFlow(String namespace, String name);

  /**
   * Whether a Service missing from the lookup may be assumed to exist (offline translation of files
   * that do not hold every Service): a numbered port is then used as it is, with a warning.
   */
  default boolean offline() {
    return false;
  }
}
