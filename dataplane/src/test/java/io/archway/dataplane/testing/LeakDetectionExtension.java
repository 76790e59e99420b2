package io.archway.dataplane.testing;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails the test, or the test class, after which Netty reported a leak ({@link LeakRecorder}).
 * Registered for every test by service loading ({@code junit-platform.properties} turns
 * autodetection on). After each test a GC finds what the test dropped unreleased; after the class a
 * second check finds what servers started for the class leaked while shutting down.
 *
 * <p>A leak is reported when it is found, which can be after the test that made it when the leak
 * happened on a server's thread after the test ended: the records in the message say where the
 * object was made and last touched.
 */
public final class LeakDetectionExtension implements AfterEachCallback, AfterAllCallback {

  static {
    LeakRecorder.install(); // in case no launcher session listener ran (some IDE runners)
  }

  @Override
  public void afterEach(ExtensionContext context) {
    fail(LeakRecorder.collect(2), context.getDisplayName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    fail(LeakRecorder.collect(), context.getDisplayName() + " (after all its tests)");
  }

  private static void fail(List<String> leaks, String where) {
    if (!leaks.isEmpty()) {
      throw new AssertionError(
          leaks.size()
              + " Netty leak(s) found after "
              + where
              + ":\n"
              + String.join("\n\n", leaks));
    }
  }
}
