package io.archway.dataplane.plugin;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What a plugin class says about itself beyond its schema, read by {@link Plugin#category()} and
 * {@link Plugin#dryRun()}: its group in the Studio's palette and what a dry-run may do with it. A
 * plugin without it is {@link Plugin.Category#OTHER} and {@link Plugin.DryRun#REFUSED}; a plugin
 * may override those methods instead.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface PluginTraits {

  Plugin.Category category() default Plugin.Category.OTHER;

  Plugin.DryRun dryRun() default Plugin.DryRun.REFUSED;
}
