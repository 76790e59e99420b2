package io.archway.dataplane.server;

import io.archway.dataplane.admin.AdminSettings;
import io.archway.dataplane.config.xds.XdsConfigSource;
import io.archway.dataplane.discovery.KubernetesSettings;
import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.http2.H2Settings;
import io.archway.dataplane.pubsub.PubSubSettings;
import io.archway.dataplane.stream.StreamSettings;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.model.source.EtcdTls;
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
 * @param etcdTls TLS to etcd, or {@code null}
 * @param bindAddress where the listeners bind
 * @param httpPort the HTTP listener ({@code 0}: any free port)
 * @param httpsPort the HTTPS listener ({@code 0}: any free port)
 * @param statusPort {@code /healthz}, {@code /readyz} and {@code /metrics}
 * @param shutdownTimeout how long in-flight work may take to finish on SIGTERM
 * @param workers I/O threads ({@code 0}: one per core)
 * @param http client-side limits, timeouts and the access log
 * @param stream TCP listeners (stream routes, Redis xRPC)
 * @param pubsub limits of Kafka pub-sub sessions
 * @param tls the HTTPS listener's protocols, ciphers and unknown-name behaviour
 * @param admin the Admin API's port and keys
 * @param http2 HTTP/2 on the listeners (h2 by ALPN, h2c), its SETTINGS and flood limits
 * @param privilegedPorts whether {@code listeners} objects on ports below 1024 bind those ports
 *     (the process may: root, or CAP_NET_BIND_SERVICE); else they bind port + 10000, as Envoy
 *     Gateway maps them, and {@code server_port} stays the declared port
 * @param overload {@code max_connections} per listener and the memory high-water mark
 * @param xds the xDS management server the config comes from, or {@code null} (file or etcd)
 */
public record DataplaneOptions(
    Path standalone,
    List<String> etcdEndpoints,
    String prefix,
    String etcdUser,
    String etcdPassword,
    EtcdTls etcdTls,
    String bindAddress,
    int httpPort,
    int httpsPort,
    int statusPort,
    Duration shutdownTimeout,
    int workers,
    HttpSettings http,
    StreamSettings stream,
    PubSubSettings pubsub,
    KubernetesSettings kubernetes,
    TlsSettings tls,
    AdminSettings admin,
    H2Settings http2,
    boolean privilegedPorts,
    OverloadSettings overload,
    XdsConfigSource.Settings xds) {

  public static final int DEFAULT_HTTP_PORT = 9080;
  public static final int DEFAULT_HTTPS_PORT = 9443;
  public static final int DEFAULT_STATUS_PORT = 9091;
  public static final Path DEFAULT_STANDALONE = Path.of("conf/apisix.yaml");

  public DataplaneOptions {
    etcdEndpoints = List.copyOf(etcdEndpoints);
  }

  /** Options for tests and tools: standalone {@code file}, any free ports on loopback. */
  public static DataplaneOptions standaloneOnLoopback(Path file) {
    return new DataplaneOptions(
        file,
        List.of(),
        "/apisix",
        null,
        null,
        null,
        "127.0.0.1",
        0,
        0,
        0,
        Duration.ofSeconds(2),
        0,
        HttpSettings.DEFAULTS.withAccessLog("off"),
        StreamSettings.DEFAULTS,
        PubSubSettings.DEFAULTS,
        KubernetesSettings.AUTO,
        TlsSettings.DEFAULTS,
        AdminSettings.DISABLED,
        H2Settings.DEFAULTS,
        false,
        OverloadSettings.DEFAULTS,
        null);
  }

  /** Options for tests and tools: config from etcd under {@code prefix}, free ports on loopback. */
  public static DataplaneOptions etcdOnLoopback(List<String> endpoints, String prefix) {
    return standaloneOnLoopback(null)
        .with(
            c -> {
              c.etcdEndpoints = endpoints;
              c.prefix = prefix;
            });
  }

  /** A copy that logs in to etcd as {@code user} (or not: {@code null}) over {@code tls}. */
  public DataplaneOptions withEtcdLogin(String user, String password, EtcdTls tls) {
    return with(
        c -> {
          c.etcdUser = user;
          c.etcdPassword = password;
          c.etcdTls = tls;
        });
  }

  /** A copy with this much time for in-flight work on SIGTERM. */
  public DataplaneOptions withShutdownTimeout(Duration shutdownTimeout) {
    return with(c -> c.shutdownTimeout = shutdownTimeout);
  }

  /** A copy with the Admin API's settings. */
  public DataplaneOptions withAdmin(AdminSettings admin) {
    return with(c -> c.admin = admin);
  }

  public DataplaneOptions withHttp(HttpSettings http) {
    return with(c -> c.http = http);
  }

  public DataplaneOptions withWorkers(int workers) {
    return with(c -> c.workers = workers);
  }

  public DataplaneOptions withStream(StreamSettings stream) {
    return with(c -> c.stream = stream);
  }

  public DataplaneOptions withPubSub(PubSubSettings pubsub) {
    return with(c -> c.pubsub = pubsub);
  }

  public DataplaneOptions withKubernetes(KubernetesSettings kubernetes) {
    return with(c -> c.kubernetes = kubernetes);
  }

  public DataplaneOptions withTls(TlsSettings tls) {
    return with(c -> c.tls = tls);
  }

  public DataplaneOptions withHttp2(H2Settings http2) {
    return with(c -> c.http2 = http2);
  }

  /**
   * A copy whose config comes from an xDS management server ({@code null}: from the file or etcd
   * again).
   */
  public DataplaneOptions withXds(XdsConfigSource.Settings xds) {
    return with(c -> c.xds = xds);
  }

  /** A copy with this connection limit and memory high-water mark. */
  public DataplaneOptions withOverload(OverloadSettings overload) {
    return with(c -> c.overload = overload);
  }

  /** A copy whose {@code listeners} bind ports below 1024 as they are (or not). */
  public DataplaneOptions withPrivilegedPorts(boolean privilegedPorts) {
    return with(c -> c.privilegedPorts = privilegedPorts);
  }

  /** A copy with what {@code change} sets on the copy's fields. */
  private DataplaneOptions with(java.util.function.Consumer<Copy> change) {
    var c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The options' fields, to change some of them in {@link #with}. */
  private static final class Copy {
    Path standalone;
    List<String> etcdEndpoints;
    String prefix;
    String etcdUser;
    String etcdPassword;
    EtcdTls etcdTls;
    String bindAddress;
    int httpPort;
    int httpsPort;
    int statusPort;
    Duration shutdownTimeout;
    int workers;
    HttpSettings http;
    StreamSettings stream;
    PubSubSettings pubsub;
    KubernetesSettings kubernetes;
    TlsSettings tls;
    AdminSettings admin;
    H2Settings http2;
    boolean privilegedPorts;
    OverloadSettings overload;
    XdsConfigSource.Settings xds;

    Copy(DataplaneOptions o) {
      standalone = o.standalone;
      etcdEndpoints = o.etcdEndpoints;
      prefix = o.prefix;
      etcdUser = o.etcdUser;
      etcdPassword = o.etcdPassword;
      etcdTls = o.etcdTls;
      bindAddress = o.bindAddress;
      httpPort = o.httpPort;
      httpsPort = o.httpsPort;
      statusPort = o.statusPort;
      shutdownTimeout = o.shutdownTimeout;
      workers = o.workers;
      http = o.http;
      stream = o.stream;
      pubsub = o.pubsub;
      kubernetes = o.kubernetes;
      tls = o.tls;
      admin = o.admin;
      http2 = o.http2;
      privilegedPorts = o.privilegedPorts;
      overload = o.overload;
      xds = o.xds;
    }

    DataplaneOptions build() {
      return new DataplaneOptions(
          standalone,
          etcdEndpoints,
          prefix,
          etcdUser,
          etcdPassword,
          etcdTls,
          bindAddress,
          httpPort,
          httpsPort,
          statusPort,
          shutdownTimeout,
          workers,
          http,
          stream,
          pubsub,
          kubernetes,
          tls,
          admin,
          http2,
          privilegedPorts,
          overload,
          xds);
    }
  }

  public boolean standaloneMode() {
    return etcdEndpoints.isEmpty() && xds == null;
  }

  /** The config comes from an xDS management server. */
  public boolean xdsMode() {
    return xds != null;
  }
}
