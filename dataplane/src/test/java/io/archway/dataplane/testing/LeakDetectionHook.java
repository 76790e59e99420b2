package io.archway.dataplane.testing;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * {@link LeakDetectionExtension} for jqwik's properties (the fuzz tests), which Jupiter's
 * extensions do not reach: after all tries of a property, a leak found fails the property.
 * Registered for every property by service loading.
 */
public final class LeakDetectionHook implements AroundPropertyHook {

  @Override
  public PropertyExecutionResult aroundProperty(
      PropertyLifecycleContext context, PropertyExecutor property) {
    var result = property.execute();
    var leaks = LeakRecorder.collect();
    if (leaks.isEmpty() || result.status() != PropertyExecutionResult.Status.SUCCESSFUL) {
      return result;
    }
    return result.mapToFailed(
        new AssertionError(
            leaks.size()
                + " Netty leak(s) found after "
                + context.label()
                + ":\n"
                + String.join("\n\n", leaks)));
  }

  @Override
  public PropagationMode propagateTo() {
    return PropagationMode.ALL_DESCENDANTS;
  }
}
