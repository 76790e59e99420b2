package io.archway.dataplane.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.config.xds.XdsConfigSource;
import io.archway.dataplane.server.OverloadSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataplaneCommandTest {

  @TempDir Path dir;

  @Test
  void defaultsAreStandaloneOnTheDocumentedPorts() throws Exception {
    var o = DataplaneCommand.parse();
    assertThat(o.standaloneMode()).isTrue();
    assertThat(o.standalone()).isEqualTo(Path.of("conf/apisix.yaml"));
    assertThat(o.httpPort()).isEqualTo(9080);
    assertThat(o.statusPort()).isEqualTo(9091);
    assertThat(o.prefix()).isEqualTo("/apisix");
    assertThat(o.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void etcdModeWithPrefixAndPorts() throws Exception {
    var o =
        DataplaneCommand.parse(
            "--etcd",
            "http://10.0.0.1:2379,http://10.0.0.2:2379",
            "--prefix=/gw/",
            "--http-port",
            "8080",
            "--status-port",
            "0");
    assertThat(o.standaloneMode()).isFalse();
    assertThat(o.standalone()).isNull();
    assertThat(o.etcdEndpoints()).containsExactly("http://10.0.0.1:2379", "http://10.0.0.2:2379");
    assertThat(o.prefix()).isEqualTo("/gw");
    assertThat(o.httpPort()).isEqualTo(8080);
    assertThat(o.statusPort()).isZero();
  }

  @Test
  void pathNormalizationSettings() throws Exception {
    assertThat(DataplaneCommand.parse().http().paths())
        .isEqualTo(io.archway.dataplane.route.PathNormalizer.Policy.DEFAULT);
    var file = dir.resolve("paths.yaml");
    Files.writeString(file, "merge_slashes: false\nescaped_slashes: keep\n");
    var paths = DataplaneCommand.parse("--config", file.toString()).http().paths();
    assertThat(paths.mergeSlashes()).isFalse();
    assertThat(paths.escapedSlashes())
        .isEqualTo(io.archway.dataplane.route.PathNormalizer.EscapedSlashes.KEEP);
    Files.writeString(file, "merge_slashes: maybe\nescaped_slashes: drop\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(
            file
                + ": merge_slashes: \"maybe\" (expected: true or false)\n"
                + file
                + ": escaped_slashes: \"drop\" (expected: decode, reject or keep)");
  }

  @Test
  void clientBodyAndSendSettings() throws Exception {
    var defaults = DataplaneCommand.parse().http();
    assertThat(defaults.clientBodyTimeout()).isEqualTo(java.time.Duration.ofSeconds(60));
    assertThat(defaults.clientBodyBufferSize()).isEqualTo(64 * 1024);
    assertThat(defaults.sendTimeout()).isEqualTo(java.time.Duration.ofSeconds(60));
    var file = dir.resolve("body.yaml");
    Files.writeString(
        file, "client_body_timeout: 2.5\nclient_body_buffer_size: 1m\nsend_timeout: 0\n");
    var http = DataplaneCommand.parse("--config", file.toString()).http();
    assertThat(http.clientBodyTimeout()).isEqualTo(java.time.Duration.ofMillis(2500));
    assertThat(http.clientBodyBufferSize()).isEqualTo(1 << 20);
    assertThat(http.sendTimeout()).isZero();
    Files.writeString(file, "client_body_buffer_size: 1g\nsend_timeout: -1\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(
            file
                + ": client_body_buffer_size: \"1g\" (expected: at most 16m)\n"
                + file
                + ": send_timeout: \"-1\" (expected: seconds 0..3600)");
  }

  @Test
  void configFileIsReadAndTheCommandLineWins() throws Exception {
    var file = dir.resolve("dataplane.yaml");
    Files.writeString(
        file,
        """
        etcd:
          endpoints: [http://127.0.0.1:2379]
          prefix: /archway
          user: gw
        http_port: 8000
        status_port: 8001
        shutdown_timeout: 2.5
        """);
    var o = DataplaneCommand.parse("--config", file.toString(), "--http-port", "9000");
    assertThat(o.etcdEndpoints()).isEqualTo(List.of("http://127.0.0.1:2379"));
    assertThat(o.prefix()).isEqualTo("/archway");
    assertThat(o.etcdUser()).isEqualTo("gw");
    assertThat(o.httpPort()).isEqualTo(9000);
    assertThat(o.statusPort()).isEqualTo(8001);
    assertThat(o.shutdownTimeout()).isEqualTo(Duration.ofMillis(2500));
  }

  @Test
  void streamPortsFromTheFileOrTheCommandLine() throws Exception {
    var file = dir.resolve("stream.yaml");
    Files.writeString(
        file, "stream_ports: [6380, 6381]\nstream_idle_timeout: 30\nredis_max_bulk_size: 1m\n");
    var o = DataplaneCommand.parse("--config", file.toString());
    assertThat(o.stream().ports()).containsExactly(6380, 6381);
    assertThat(o.stream().idleTimeout()).hasSeconds(30);
    assertThat(o.stream().maxBulkBytes()).isEqualTo(1 << 20);
    o =
        DataplaneCommand.parse(
            "--config", file.toString(), "--stream-port", "7000,7001", "--stream-port", "7002");
    assertThat(o.stream().ports()).containsExactly(7000, 7001, 7002);
    assertThat(DataplaneCommand.parse().stream().ports()).isEmpty();
    var udp = dir.resolve("udp.yaml");
    Files.writeString(udp, "stream_udp_ports: [5353, 5354]\nstream_udp_idle_timeout: 5\n");
    o = DataplaneCommand.parse("--config", udp.toString());
    assertThat(o.stream().udpPorts()).containsExactly(5353, 5354);
    assertThat(o.stream().udpIdleTimeout()).hasSeconds(5);
    assertThat(DataplaneCommand.parse().stream().udpPorts()).isEmpty();
    assertThatThrownBy(() -> DataplaneCommand.parse("--stream-port", "9080"))
        .hasMessage(
            "stream port 9080 is also the HTTP, HTTPS or status port (expected: a port of its own)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--stream-port", "7000,7000"))
        .hasMessageContaining("name a port twice");
  }

  @Test
  void errorsNameTheOptionOrTheFileAndField() throws Exception {
    assertThatThrownBy(() -> DataplaneCommand.parse("--http-port", "99999"))
        .hasMessage("--http-port: \"99999\" (expected: a port 0..65535)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--etcd", "localhost:2379"))
        .hasMessage(
            "--etcd: \"localhost:2379\" (expected: http(s)://host:port, e.g. http://127.0.0.1:2379)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--prefix", "apisix"))
        .hasMessage("--prefix: \"apisix\" (expected: starts with \"/\", e.g. /apisix)");
    assertThatThrownBy(
            () -> DataplaneCommand.parse("--standalone", "a.yaml", "--etcd", "http://h:1"))
        .hasMessage("--standalone and --etcd both given (expected: one config source)");
    assertThatThrownBy(
            () -> DataplaneCommand.parse("--xds", "istiod:15010", "--etcd", "http://h:1"))
        .hasMessage("--xds and --etcd both given (expected: one config source)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--xds", "istiod"))
        .hasMessage(
            "--xds: \"istiod\" (expected: HOST:PORT of the management server, e.g."
                + " istiod.istio-system.svc:15010)");
    var xds = DataplaneCommand.parse("--xds", "istiod:15010", "--xds-node-id", "router~1~p.n~n");
    assertThat(xds.xdsMode()).isTrue();
    assertThat(xds.standaloneMode()).isFalse();
    assertThat(xds.xds().target()).isEqualTo("istiod:15010");
    assertThat(xds.xds().node().getId()).isEqualTo("router~1~p.n~n");
    assertThat(xds.xds().node().getCluster()).isEqualTo("istio-ingressgateway");
    assertThat(xds.xds().protocol()).isEqualTo(XdsConfigSource.Protocol.SOTW);
    assertThat(xds.xds().initialFetchTimeout()).isEqualTo(Duration.ZERO);
    assertThat(
            DataplaneCommand.parse("--xds", "istiod:15010", "--xds-initial-fetch-timeout", "2.5")
                .xds()
                .initialFetchTimeout())
        .isEqualTo(Duration.ofMillis(2500));
    assertThat(
            DataplaneCommand.parse("--xds", "istiod:15010", "--xds-protocol", "delta")
                .xds()
                .protocol())
        .isEqualTo(XdsConfigSource.Protocol.DELTA);
    assertThatThrownBy(
            () -> DataplaneCommand.parse("--xds", "istiod:15010", "--xds-protocol", "incremental"))
        .hasMessage(
            "--xds-protocol: \"incremental\" (expected: sotw, state of the world, or delta)");
    var xdsFile = dir.resolve("xds.yaml");
    Files.writeString(
        xdsFile, "xds:\n  address: istiod:15010\n  protocol: delta\n  initial_fetch_timeout: 30\n");
    var fromFile = DataplaneCommand.parse("--config", xdsFile.toString()).xds();
    assertThat(fromFile.protocol()).isEqualTo(XdsConfigSource.Protocol.DELTA);
    assertThat(fromFile.initialFetchTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(fromFile.sds()).isNull();
    var sds = "unix:///var/run/secrets/workload-spiffe-uds/socket";
    assertThat(DataplaneCommand.parse("--xds", "istiod:15010", "--xds-sds", sds).xds().sds())
        .isEqualTo(sds);
    Files.writeString(xdsFile, "xds:\n  address: istiod:15010\n  sds: 127.0.0.1:15020\n");
    assertThat(DataplaneCommand.parse("--config", xdsFile.toString()).xds().sds())
        .isEqualTo("127.0.0.1:15020");
    assertThatThrownBy(
            () -> DataplaneCommand.parse("--xds", "istiod:15010", "--xds-sds", "unix:socket"))
        .hasMessageStartingWith("--xds-sds: \"unix:socket\" (expected: unix:///PATH");
    assertThatThrownBy(() -> DataplaneCommand.parse("--etcd", "http://h:1", "--xds-sds", sds))
        .hasMessage("--xds-sds without --xds (expected: both, or neither)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--verbose"))
        .hasMessage("unknown option --verbose (expected one of the options in --help)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--http-port"))
        .hasMessage("--http-port needs a value (see --help)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--http-port", "9091"))
        .hasMessage("--http-port and --status-port are both 9091 (expected: two ports)");
    assertThatThrownBy(
            () -> DataplaneCommand.parse("--config", dir.resolve("none.yaml").toString()))
        .hasMessage(dir.resolve("none.yaml") + ": no such file (from --config)");

    var file = dir.resolve("bad.yaml");
    Files.writeString(file, "http_port: x\nlisten: 1\netcd:\n  hosts: []\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(
            String.join(
                "\n",
                file + ": http_port: \"x\" (expected: a port 0..65535)",
                file
                    + ": listen: unknown setting (expected one of: access_log, admin, bind,"
                    + " client_body_buffer_size, client_body_timeout,"
                    + " client_header_timeout, client_max_body_size, discovery, escaped_slashes,"
                    + " etcd, http2, http_port, https_port, keepalive_timeout, max_connections,"
                    + " memory_high_water, memory_low_water, merge_slashes,"
                    + " privileged_ports, pubsub,"
                    + " redis_max_bulk_size, send_timeout,"
                    + " shutdown_timeout, standalone, status_port, stream_idle_timeout,"
                    + " stream_ports, stream_udp_idle_timeout, stream_udp_ports, tls, workers, xds)",
                file
                    + ": etcd.hosts: unknown setting (expected one of: ca, cert, endpoints, key, password, prefix, user)"));
  }

  @Test
  void httpLimitsWorkersAndAccessLog() throws Exception {
    var file = dir.resolve("http.yaml");
    Files.writeString(
        file,
        "workers: 2\naccess_log: \"off\"\nclient_max_body_size: 1m\n"
            + "client_header_timeout: 5\nkeepalive_timeout: 30\n");
    var o = DataplaneCommand.parse("--config", file.toString(), "--access-log", "/tmp/access.log");
    assertThat(o.workers()).isEqualTo(2);
    assertThat(o.http().maxBodySize()).isEqualTo(1 << 20);
    assertThat(o.http().headerTimeout()).hasSeconds(5);
    assertThat(o.http().idleTimeout()).hasSeconds(30);
    assertThat(o.http().accessLog()).isEqualTo("/tmp/access.log");
    assertThatThrownBy(() -> DataplaneCommand.parse("--client-max-body-size", "lots"))
        .hasMessage(
            "--client-max-body-size: \"lots\" (expected: bytes, e.g. 1048576 or 1m; 0: no limit)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--workers", "-1"))
        .hasMessage("--workers: \"-1\" (expected: 0..1024, 0 for one per core)");
  }

  @Test
  void pubSubLimitsFromTheFile() throws Exception {
    assertThat(DataplaneCommand.parse().pubsub())
        .isEqualTo(io.archway.dataplane.pubsub.PubSubSettings.DEFAULTS);
    var file = dir.resolve("pubsub.yaml");
    Files.writeString(
        file,
        "pubsub: {max_frame_size: 16k, max_fetch_size: 2m, fetch_wait: 0.25, broker_timeout: 3,"
            + " consumers: 4, max_in_flight: 8, idle_timeout: 30}\n");
    var p = DataplaneCommand.parse("--config", file.toString()).pubsub();
    assertThat(p.maxFrameBytes()).isEqualTo(16 * 1024);
    assertThat(p.maxFetchBytes()).isEqualTo(2 * 1024 * 1024);
    assertThat(p.fetchWait()).isEqualTo(Duration.ofMillis(250));
    assertThat(p.brokerTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(p.consumers()).isEqualTo(4);
    assertThat(p.maxInFlight()).isEqualTo(8);
    assertThat(p.idleTimeout()).isEqualTo(Duration.ofSeconds(30));

    Files.writeString(file, "pubsub: {consumers: 0, fetch_wait: soon, partitions: 3}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("pubsub.consumers: 0 (expected: 1..1024)")
        .hasMessageNotContaining("fetch_wait");
    Files.writeString(file, "pubsub: {fetch_wait: soon}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("pubsub.fetch_wait: \"soon\" (expected: seconds 0..3600)");
    Files.writeString(file, "pubsub: {partitions: 3}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining(
            "pubsub.partitions: unknown setting (expected one of: broker_timeout,");
  }

  @Test
  void etcdTlsFromTheCommandLineOrTheFile() throws Exception {
    var ca = Files.writeString(dir.resolve("ca.crt"), "x");
    var cert = Files.writeString(dir.resolve("tls.crt"), "x");
    var key = Files.writeString(dir.resolve("tls.key"), "x");
    var o =
        DataplaneCommand.parse(
            "--etcd",
            "https://h:2379",
            "--etcd-ca",
            ca.toString(),
            "--etcd-cert",
            cert.toString(),
            "--etcd-key",
            key.toString());
    assertThat(o.etcdTls()).isEqualTo(new io.archway.model.source.EtcdTls(ca, cert, key));
    var file = dir.resolve("etcd.yaml");
    Files.writeString(file, "etcd: {endpoints: [\"https://h:2379\"], ca: " + ca + ", user: gw}\n");
    var fromFile = DataplaneCommand.parse("--config", file.toString());
    assertThat(fromFile.etcdTls().ca()).isEqualTo(ca);
    assertThat(fromFile.etcdUser()).isEqualTo("gw");
    assertThatThrownBy(() -> DataplaneCommand.parse("--etcd-cert", cert.toString()))
        .hasMessage("--etcd-cert and --etcd-key go together (expected: both or neither)");
    assertThatThrownBy(() -> DataplaneCommand.parse("--etcd-ca", "/no/such/ca.crt"))
        .hasMessage("/no/such/ca.crt: no such file or not readable (etcd TLS)");
  }

  @Test
  void httpsPortAndTlsFromTheFile() throws Exception {
    var defaults = DataplaneCommand.parse();
    assertThat(defaults.httpsPort()).isEqualTo(9443);
    assertThat(defaults.tls()).isEqualTo(io.archway.dataplane.tls.TlsSettings.DEFAULTS);
    var file = dir.resolve("tls.yaml");
    Files.writeString(
        file,
        "https_port: 8443\ntls: {protocols: [TLSv1.3], ciphers: [TLS_AES_128_GCM_SHA256],"
            + " fallback_sni: www.example.com, unknown_sni: reject, provider: jdk,"
            + " redirect_port: 8443, handshake_timeout: 5}\n");
    var o = DataplaneCommand.parse("--config", file.toString());
    assertThat(o.httpsPort()).isEqualTo(8443);
    var t = o.tls();
    assertThat(t.protocols()).containsExactly("TLSv1.3");
    assertThat(t.ciphers()).containsExactly("TLS_AES_128_GCM_SHA256");
    assertThat(t.fallbackSni()).isEqualTo("www.example.com");
    assertThat(t.rejectUnknownSni()).isTrue();
    assertThat(t.provider()).isEqualTo("jdk");
    assertThat(t.redirectPort()).isEqualTo(8443);
    assertThat(t.handshakeTimeout()).hasSeconds(5);
    assertThat(
            DataplaneCommand.parse("--config", file.toString(), "--https-port", "9444").httpsPort())
        .isEqualTo(9444);

    Files.writeString(
        file,
        "tls: {protocols: [SSLv3], unknown_sni: maybe, provider: nss, redirect_port: 0, sni: x}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("tls.protocols: \"SSLv3\" (expected: TLSv1.2, TLSv1.3)")
        .hasMessageNotContaining("unknown_sni");
    Files.writeString(file, "tls: {unknown_sni: maybe}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("tls.unknown_sni: \"maybe\" (expected: default or reject)");
    Files.writeString(file, "tls: {provider: nss}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("tls.provider: \"nss\" (expected: auto, openssl or jdk)");
    Files.writeString(file, "tls: {sni: x}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("tls.sni: unknown setting (expected one of: ciphers, fallback_sni,");
    assertThatThrownBy(() -> DataplaneCommand.parse("--https-port", "9080"))
        .hasMessage(
            "--https-port 9080 is also the HTTP or status port (expected: a port of its own)");
  }

  @Test
  void kubernetesAccessForDiscovery() throws Exception {
    var file = dir.resolve("kube.yaml");
    Files.writeString(file, "discovery:\n  kubernetes:\n    api_server: https://10.0.0.1:6443\n");
    assertThat(DataplaneCommand.parse("--config", file.toString()).kubernetes().apiServer())
        .isEqualTo("https://10.0.0.1:6443");
    assertThat(DataplaneCommand.parse("--kubeconfig", "/etc/kube/config").kubernetes().kubeconfig())
        .isEqualTo(Path.of("/etc/kube/config"));
    assertThatThrownBy(() -> DataplaneCommand.parse("--kube-api", "10.0.0.1"))
        .hasMessage(
            "--kube-api: \"10.0.0.1\" (expected: an API server URL, e.g. https://10.0.0.1:6443)");
    Files.writeString(file, "discovery:\n  consul: {}\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(file + ": discovery.consul: unknown discovery (expected: kubernetes)");
  }

  @Test
  void helpListsEveryOption() {
    assertThatThrownBy(() -> DataplaneCommand.parse("--etcd", "http://h:1", "--help"))
        .isInstanceOf(DataplaneCommand.HelpRequested.class);
    assertThat(DataplaneCommand.OPTIONS).hasSize(42);
    for (var option : DataplaneCommand.OPTIONS) {
      assertThat(DataplaneCommand.usage()).contains(option + " ");
    }
    assertThat(DataplaneCommand.usage()).contains("--help ");
  }

  @Test
  void overloadSettingsComeFromTheOptionAndTheFile() throws Exception {
    var defaults = DataplaneCommand.parse("--etcd", "http://h:1").overload();
    assertThat(defaults).isEqualTo(OverloadSettings.DEFAULTS);
    assertThat(defaults.maxConnections()).isEqualTo(10_000);
    var file = dir.resolve("overload.yaml");
    Files.writeString(
        file, "max_connections: 500\nmemory_high_water: 85%\nmemory_low_water: 0.7\n");
    var o = DataplaneCommand.parse("--config", file.toString(), "--max-connections", "0");
    assertThat(o.overload()).isEqualTo(new OverloadSettings(0, 0.85, 0.7));
    Files.writeString(file, "memory_high_water: off\n");
    assertThat(DataplaneCommand.parse("--config", file.toString()).overload().memoryHighWater())
        .isZero();
    assertThatThrownBy(() -> DataplaneCommand.parse("--max-connections", "-1"))
        .hasMessage("--max-connections: \"-1\" (expected: a count >= 0, 0 for no limit)");
    Files.writeString(file, "memory_high_water: 150%\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(
            file
                + ": memory_high_water: \"150%\" (expected: a fraction of the memory limit, 0..1"
                + " or 0%..100%, or off)");
    Files.writeString(file, "memory_high_water: 0.5\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageContaining("memory_low_water: 0.8 (expected: above 0 and below");
    // The options (what the Helm chart passes) over the file's.
    assertThat(
            DataplaneCommand.parse(
                    "--config",
                    file.toString(),
                    "--memory-high-water",
                    "75%",
                    "--memory-low-water",
                    "0.6")
                .overload())
        .isEqualTo(new OverloadSettings(10_000, 0.75, 0.6));
    assertThat(DataplaneCommand.parse("--memory-high-water", "off").overload().memoryHighWater())
        .isZero();
    assertThatThrownBy(() -> DataplaneCommand.parse("--memory-low-water", "2"))
        .hasMessageStartingWith("--memory-low-water: \"2\"");
  }
}
