package io.archway.model;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version and the git commit this build was made from, for {@code --version} of both command
 * lines. The build fills them into {@code build-info.properties}; where it could not (no {@code
 * .git}, as in a source tarball, or classes run outside the jar) they read {@code "unknown"}.
 *
 * @param version the Maven project version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param commit the abbreviated commit id, with {@code -dirty} when the work tree had changes
 */
public record BuildInfo(String version, String commit) {

  public static final String UNKNOWN = "unknown";

  private static final BuildInfo CURRENT = load();

  /** This build's. */
  public static BuildInfo current() {
    return CURRENT;
  }

  /** {@code "archway-dataplane 0.1.0 (commit 1a2b3c4d5e6f)"}: the line {@code --version} prints. */
  public String describe(String product) {
    return product + " " + version + " (commit " + commit + ")";
  }

  static BuildInfo load() {
    var props = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("build-info.properties")) {
      if (in != null) {
        props.load(in);
      }
    } catch (IOException e) {
      // an unreadable resource says as much as a missing one: unknown
    }
    return from(props);
  }

  /** From the filtered properties; a placeholder the build left unfilled counts as unknown. */
  static BuildInfo from(Properties props) {
    var version = value(props, "version");
    var commit = value(props, "commit");
    if (!commit.equals(UNKNOWN) && value(props, "dirty").equals("true")) {
      commit += "-dirty";
    }
    return new BuildInfo(version, commit);
  }

  private static String value(Properties props, String key) {
    var v = props.getProperty(key, "").strip();
    return v.isEmpty() || v.contains("${") ? UNKNOWN : v;
  }
}
