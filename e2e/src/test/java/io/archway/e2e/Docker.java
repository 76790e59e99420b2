package io.archway.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.DockerClientFactory;

/**
 * Whether a Docker engine is there for Testcontainers, asked cheaply first: with no {@code
 * DOCKER_HOST}, no Testcontainers settings and no Docker socket on disk there is none, and the
 * answer takes a few file lookups instead of Testcontainers' search of every way to reach one.
 */
final class Docker {

  private Docker() {}

  /** Why there is no Docker engine to use, or {@code null} when there is one. */
  static String missing() {
    var home = Path.of(System.getProperty("user.home"));
    var sockets = new ArrayList<>(List.of(Path.of("/var/run/docker.sock")));
    var runtime = System.getenv("XDG_RUNTIME_DIR");
    if (runtime != null) {
      sockets.add(Path.of(runtime, "docker.sock"));
    }
    sockets.add(home.resolve(".docker/run/docker.sock"));
    sockets.add(home.resolve(".docker/desktop/docker.sock"));
    boolean configured =
        System.getenv("DOCKER_HOST") != null
            || Files.exists(home.resolve(".testcontainers.properties"));
    if (!configured && sockets.stream().noneMatch(Files::exists)) {
      return "no Docker engine (DOCKER_HOST is unset and there is no Docker socket at "
          + sockets
          + ")";
    }
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      return "no Docker engine answered (DOCKER_HOST="
          + System.getenv("DOCKER_HOST")
          + "; Testcontainers' log says what it tried)";
    }
    return null;
  }
}
