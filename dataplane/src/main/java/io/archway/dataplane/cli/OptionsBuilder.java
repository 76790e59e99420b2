package io.archway.dataplane.cli;

import static io.archway.dataplane.cli.Values.bytes;
import static io.archway.dataplane.cli.Values.connections;
import static io.archway.dataplane.cli.Values.count;
import static io.archway.dataplane.cli.Values.endpoints;
import static io.archway.dataplane.cli.Values.fraction;
import static io.archway.dataplane.cli.Values.kubeApi;
import static io.archway.dataplane.cli.Values.port;
import static io.archway.dataplane.cli.Values.prefix;
import static io.archway.dataplane.cli.Values.seconds;
import static io.archway.dataplane.cli.Values.sorted;
import static io.archway.dataplane.cli.Values.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.archway.dataplane.admin.AdminSettings;
import io.archway.dataplane.discovery.KubernetesSettings;
import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.http2.H2Settings;
import io.archway.dataplane.pubsub.PubSubSettings;
import io.archway.dataplane.route.PathNormalizer;
import io.archway.dataplane.server.DataplaneOptions;
import io.archway.dataplane.server.OverloadSettings;
import io.archway.dataplane.stream.StreamSettings;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.model.Keys;
import io.archway.model.Messages;
import io.archway.model.source.EtcdTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The dataplane's settings as they are put together: the defaults, then the {@code --config} YAML
 * file, then the command line ({@link DataplaneCommand}), which wins. Every error names the option
 * or the file and field, and says what was expected.
 */
final class OptionsBuilder {

  private static final Set<String> CONFIG_FIELDS =
      Set.of(
          "standalone",
          "etcd",
          "xds",
          "bind",
          "http_port",
          "https_port",
          "status_port",
          "shutdown_timeout",
          "workers",
          "access_log",
          "client_max_body_size",
          "client_header_timeout",
          "keepalive_timeout",
          "client_body_timeout",
          "client_body_buffer_size",
          "send_timeout",
          "merge_slashes",
          "escaped_slashes",
          "stream_ports",
          "stream_idle_timeout",
          "stream_udp_ports",
          "stream_udp_idle_timeout",
          "redis_max_bulk_size",
          "pubsub",
          "tls",
          "http2",
          "discovery",
          "admin",
          "privileged_ports",
          "max_connections",
          "memory_high_water",
          "memory_low_water");
  private static final Set<String> ETCD_FIELDS =
      Set.of("endpoints", "prefix", "user", "password", "ca", "cert", "key");

  private Path standalone;
  private List<String> etcd = List.of();
  private final XdsOptions xds = new XdsOptions();
  private String prefix = Keys.DEFAULT_PREFIX;
  private String user = System.getenv("ARCHWAY_ETCD_USER");
  private Path etcdCa;
  private Path etcdCert;
  private Path etcdKey;
  private String password = System.getenv("ARCHWAY_ETCD_PASSWORD");
  private String bind = "0.0.0.0";
  private int httpPort = DataplaneOptions.DEFAULT_HTTP_PORT;
  private int httpsPort = DataplaneOptions.DEFAULT_HTTPS_PORT;
  private TlsSettings tls = TlsSettings.DEFAULTS;
  private int statusPort = DataplaneOptions.DEFAULT_STATUS_PORT;
  private Duration shutdownTimeout = Duration.ofSeconds(10);
  private int workers;
  private HttpSettings http = HttpSettings.DEFAULTS;
  private StreamSettings stream = StreamSettings.DEFAULTS;
  private PubSubSettings pubsub = PubSubSettings.DEFAULTS;
  private H2Settings http2 = H2Settings.DEFAULTS;
  private Path kubeconfig;
  private String kubeApi;
  private AdminSettings admin = AdminOptions.defaults();
  private boolean privilegedPorts;
  private int maxConnections = OverloadSettings.DEFAULT_MAX_CONNECTIONS;
  private double memoryHighWater = OverloadSettings.DEFAULTS.memoryHighWater();
  private double memoryLowWater = OverloadSettings.DEFAULTS.memoryLowWater();

  /** Applies the command line's values, each checked as the file's are. */
  void apply(DataplaneCommand c) throws UsageException {
    if (c.standalone != null) {
      standalone = Path.of(c.standalone);
    }
    if (c.kubeconfig != null) {
      kubeconfig = Path.of(c.kubeconfig);
    }
    if (c.kubeApi != null) {
      kubeApi = kubeApi("--kube-api", c.kubeApi);
    }
    if (c.etcd != null) {
      etcd = endpoints("--etcd", Arrays.asList(c.etcd.split(",")));
    }
    xds.apply(c);
    if (c.prefix != null) {
      prefix = prefix("--prefix", c.prefix);
    }
    if (c.etcdUser != null) {
      user = c.etcdUser;
    }
    if (c.etcdPassword != null) {
      password = c.etcdPassword;
    }
    if (c.etcdCa != null) {
      etcdCa = Path.of(c.etcdCa);
    }
    if (c.etcdCert != null) {
      etcdCert = Path.of(c.etcdCert);
    }
    if (c.etcdKey != null) {
      etcdKey = Path.of(c.etcdKey);
    }
    if (c.bind != null) {
      bind = c.bind;
    }
    if (c.httpPort != null) {
      httpPort = port("--http-port", c.httpPort);
    }
    if (c.httpsPort != null) {
      httpsPort = port("--https-port", c.httpsPort);
    }
    if (c.statusPort != null) {
      statusPort = port("--status-port", c.statusPort);
    }
    if (c.shutdownTimeout != null) {
      shutdownTimeout = seconds("--shutdown-timeout", c.shutdownTimeout);
    }
    if (c.workers != null) {
      workers = count("--workers", c.workers);
    }
    if (c.maxConnections != null) {
      maxConnections = connections("--max-connections", c.maxConnections);
    }
    if (c.memoryHighWater != null) {
      memoryHighWater = fraction("--memory-high-water", c.memoryHighWater, true);
    }
    if (c.memoryLowWater != null) {
      memoryLowWater = fraction("--memory-low-water", c.memoryLowWater, false);
    }
    if (c.h2c) {
      http2 = http2.withH2c(true);
    }
    privilegedPorts |= c.privilegedPorts;
    if (c.accessLog != null) {
      http = http.withAccessLog(c.accessLog);
    }
    if (c.clientMaxBodySize != null) {
      http =
          http.withLimits(
              http.maxUriLength(),
              http.maxHeaderSize(),
              bytes("--client-max-body-size", c.clientMaxBodySize));
    }
    admin = AdminOptions.apply(admin, c);
    if (!c.streamPorts.isEmpty()) {
      // Repeated and comma-separated values add up, and replace the file's list.
      var ports = new ArrayList<Integer>();
      for (var value : c.streamPorts) {
        for (var part : value.split(",")) {
          ports.add(port("--stream-port", part.strip()));
        }
      }
      stream = stream.withPorts(ports);
    }
  }

  /** The settings, checked as a whole. */
  DataplaneOptions build() throws UsageException {
    var p = this;
    if (p.standalone != null && !p.etcd.isEmpty()) {
      throw new UsageException("--standalone and --etcd both given (expected: one config source)");
    }
    p.xds.alone(p.standalone != null, !p.etcd.isEmpty());
    if (p.etcd.isEmpty() && p.standalone == null && !p.xds.given()) {
      p.standalone = DataplaneOptions.DEFAULT_STANDALONE;
    }
    if (p.httpPort != 0 && p.httpPort == p.statusPort) {
      throw new UsageException(
          "--http-port and --status-port are both " + p.httpPort + " (expected: two ports)");
    }
    if (p.httpsPort != 0 && (p.httpsPort == p.httpPort || p.httpsPort == p.statusPort)) {
      throw new UsageException(
          "--https-port "
              + p.httpsPort
              + " is also the HTTP or status port (expected: a port of its own)");
    }
    for (int port : p.stream.ports()) {
      if (port != 0 && (port == p.httpPort || port == p.httpsPort || port == p.statusPort)) {
        throw new UsageException(
            "stream port "
                + port
                + " is also the HTTP, HTTPS or status port (expected: a port of its own)");
      }
    }
    if (p.admin.enabled()
        && p.admin.port() != 0
        && (p.admin.port() == p.httpPort
            || p.admin.port() == p.httpsPort
            || p.admin.port() == p.statusPort
            || p.stream.ports().contains(p.admin.port()))) {
      throw new UsageException(
          "--admin-port "
              + p.admin.port()
              + " is also another listener's port (expected: a port of its own)");
    }
    if (p.stream.ports().size() != java.util.Set.copyOf(p.stream.ports()).size()) {
      throw new UsageException(
          "stream ports " + p.stream.ports() + " name a port twice (expected: distinct ports)");
    }
    OverloadSettings overload;
    try {
      overload = new OverloadSettings(p.maxConnections, p.memoryHighWater, p.memoryLowWater);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    return new DataplaneOptions(
        p.etcd.isEmpty() ? p.standalone : null,
        p.etcd,
        p.prefix,
        p.user,
        p.password,
        p.etcdTls(),
        p.bind,
        p.httpPort,
        p.httpsPort,
        p.statusPort,
        p.shutdownTimeout,
        p.workers,
        p.http,
        p.stream,
        p.pubsub,
        new KubernetesSettings(p.kubeconfig, p.kubeApi),
        p.tls,
        p.admin,
        p.http2,
        p.privilegedPorts,
        overload,
        p.xds.settings());
  }

  /** TLS to etcd from --etcd-ca/--etcd-cert/--etcd-key, checked for readable files. */
  private EtcdTls etcdTls() throws UsageException {
    try {
      return EtcdTls.fromFiles(etcdCa, etcdCert, etcdKey);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  void readConfigFile(Path file) throws UsageException {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new UsageException(file + ": no such file (from --config)");
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read: " + Messages.firstLine(e.getMessage()));
    }
    if (root == null || root.isNull() || root.isMissingNode()) {
      return;
    }
    if (!root.isObject()) {
      throw new UsageException(file + ": expected a mapping of settings");
    }
    var problems = new ArrayList<String>();
    for (var e : root.properties()) {
      var name = e.getKey();
      var v = e.getValue();
      var at = file + ": " + name;
      try {
        switch (name) {
          case "standalone" -> standalone = Path.of(text(at, v));
          case "bind" -> bind = text(at, v);
          case "http_port" -> httpPort = port(at, v.asText());
          case "https_port" -> httpsPort = port(at, v.asText());
          case "status_port" -> statusPort = port(at, v.asText());
          case "shutdown_timeout" -> shutdownTimeout = seconds(at, v.asText());
          case "workers" -> workers = count(at, v.asText());
          case "access_log" -> http = http.withAccessLog(text(at, v));
          case "client_max_body_size" ->
              http =
                  http.withLimits(http.maxUriLength(), http.maxHeaderSize(), bytes(at, v.asText()));
          case "client_header_timeout" ->
              http = http.withTimeouts(seconds(at, v.asText()), http.idleTimeout());
          case "keepalive_timeout" ->
              http = http.withTimeouts(http.headerTimeout(), seconds(at, v.asText()));
          case "client_body_timeout" ->
              http = http.withClientBody(seconds(at, v.asText()), http.clientBodyBufferSize());
          case "send_timeout" -> http = http.withSendTimeout(seconds(at, v.asText()));
          case "client_body_buffer_size" -> {
            long n = bytes(at, v.asText());
            if (n > 16 << 20) {
              throw new UsageException(at + ": \"" + v.asText() + "\" (expected: at most 16m)");
            }
            http = http.withClientBody(http.clientBodyTimeout(), (int) n);
          }
          case "privileged_ports" -> privilegedPorts = ConfigSections.bool(at, v);
          case "max_connections" -> maxConnections = connections(at, v.asText());
          case "memory_high_water" ->
              // YAML reads a bare off as false.
              memoryHighWater =
                  v.isBoolean() && !v.booleanValue() ? 0 : fraction(at, v.asText(), true);
          case "memory_low_water" -> memoryLowWater = fraction(at, v.asText(), false);
          case "merge_slashes" ->
              http =
                  http.withPaths(
                      new PathNormalizer.Policy(
                          ConfigSections.bool(at, v), http.paths().escapedSlashes()));
          case "escaped_slashes" -> {
            var policy = PathNormalizer.EscapedSlashes.parse(text(at, v));
            if (policy == null) {
              throw new UsageException(
                  at + ": \"" + v.asText() + "\" (expected: decode, reject or keep)");
            }
            http = http.withPaths(new PathNormalizer.Policy(http.paths().mergeSlashes(), policy));
          }
          case "stream_ports" -> {
            if (!v.isArray()) {
              throw new UsageException(at + ": expected a list of ports");
            }
            var ports = new ArrayList<Integer>();
            for (var n : v) {
              ports.add(port(at, n.asText()));
            }
            stream = stream.withPorts(ports);
          }
          case "stream_udp_ports" -> {
            if (!v.isArray()) {
              throw new UsageException(at + ": expected a list of ports");
            }
            var ports = new ArrayList<Integer>();
            for (var n : v) {
              ports.add(port(at, n.asText()));
            }
            stream = stream.withUdpPorts(ports);
          }
          case "stream_udp_idle_timeout" ->
              stream = stream.withUdpIdleTimeout(seconds(at, v.asText()));
          case "stream_idle_timeout" -> stream = stream.withIdleTimeout(seconds(at, v.asText()));
          case "redis_max_bulk_size" -> stream = stream.withMaxBulkBytes(bytes(at, v.asText()));
          case "etcd" -> readEtcd(file, v);
          case "xds" -> xds.read(file, v);
          case "discovery" -> {
            var k = ConfigSections.discovery(file, v, new KubernetesSettings(kubeconfig, kubeApi));
            kubeconfig = k.kubeconfig();
            kubeApi = k.apiServer();
          }
          case "pubsub" -> pubsub = ConfigSections.pubsub(file, v, pubsub);
          case "tls" -> tls = ConfigSections.tls(file, v, tls);
          case "admin" -> admin = AdminOptions.read(file, v, admin);
          case "http2" -> http2 = ConfigSections.http2(file, v, http2);
          default ->
              throw new UsageException(
                  at
                      + ": unknown setting (expected one of: "
                      + String.join(", ", sorted(CONFIG_FIELDS))
                      + ")");
        }
      } catch (UsageException ex) {
        problems.add(ex.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new UsageException(String.join("\n", problems));
    }
  }

  private void readEtcd(Path file, JsonNode v) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file + ": etcd: expected a mapping (endpoints, prefix, user, password)");
    }
    for (var e : v.properties()) {
      var at = file + ": etcd." + e.getKey();
      switch (e.getKey()) {
        case "endpoints" -> {
          if (!e.getValue().isArray()) {
            throw new UsageException(at + ": expected a list of URLs");
          }
          var list = new ArrayList<String>();
          e.getValue().forEach(n -> list.add(n.asText()));
          etcd = endpoints(at, list);
        }
        case "prefix" -> prefix = prefix(at, text(at, e.getValue()));
        case "user" -> user = text(at, e.getValue());
        case "password" -> password = text(at, e.getValue());
        case "ca" -> etcdCa = Path.of(text(at, e.getValue()));
        case "cert" -> etcdCert = Path.of(text(at, e.getValue()));
        case "key" -> etcdKey = Path.of(text(at, e.getValue()));
        default ->
            throw new UsageException(
                at
                    + ": unknown setting (expected one of: "
                    + String.join(", ", sorted(ETCD_FIELDS))
                    + ")");
      }
    }
  }
}
