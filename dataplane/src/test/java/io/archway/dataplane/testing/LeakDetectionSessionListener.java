package io.archway.dataplane.testing;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Installs {@link LeakRecorder} when the test JVM's launcher session opens, before any engine
 * (Jupiter or jqwik) runs a test, so the detectors Netty creates when its classes load are ours.
 * When the session closes, a leak found after the last test class is printed: no test is left to
 * fail with it, and the log must still show it.
 */
public final class LeakDetectionSessionListener implements LauncherSessionListener {

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    LeakRecorder.install();
  }

  @Override
  public void launcherSessionClosed(LauncherSession session) {
    for (var leak : LeakRecorder.collect()) {
      System.err.println("Netty leak found after the last test:\n" + leak);
    }
  }
}
