package io.archway.dataplane;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything the dataplane process is started with, from {@code --config FILE} and the command line
 * (which wins).
 *
 * @param standalone the standalone config file, or {@code null} when the config comes from etcd
 * @param etcdEndpoints etcd URLs; empty in standalone mode
 * @param prefix the etcd key prefix
 * @param etcdUser etcd user, or {@code null}
 * @param etcdPassword etcd password, or {@code null}
 * @param bindAddress where the listeners bind
 * @param httpPort the HTTP listener ({@code 0}: any free port)
 * @param statusPort {@code /healthz}, {@code /readyz} and {@code /metrics}
 * @param shutdownTimeout how long in-flight work may take to finish on SIGTERM
 */
public record DataplaneOptions(
    Path standalone,
    List<String> etcdEndpoints,
    String prefix,
    String etcdUser,
    String etcdPassword,
    String bindAddress,
    int httpPort,
    int statusPort,
    Duration shutdownTimeout) {

  public static final int DEFAULT_HTTP_PORT = 9080;
  public static final int DEFAULT_STATUS_PORT = 9091;
  public static final Path DEFAULT_STANDALONE = Path.of("conf/apisix.yaml");

  public DataplaneOptions {
    etcdEndpoints = List.copyOf(etcdEndpoints);
  }

  public boolean standaloneMode() {
    return etcdEndpoints.isEmpty();
  }
}
