package io.archway.dataplane.support.archfixture;

import io.archway.dataplane.config.ConfigHolder;

/**
 * A support class that reaches up into config, made on purpose: ArchitectureTest shows the layer
 * rules refuse it.
 */
public final class UpwardReference {

  private UpwardReference() {}

  public static Class<?> up() {
    return ConfigHolder.class;
  }
}
