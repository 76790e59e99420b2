package io.archway.dataplane.config;

import static io.archway.dataplane.discovery.TestDnsServer.a;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.discovery.DnsSettings;
import io.archway.dataplane.discovery.TestDnsServer;
import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Keys.Key;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.StandaloneFile;
import io.netty.channel.EventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upstreams with {@code discovery_type: dns} as the compiler builds them, against a real DNS server
 * in the test: nodes from the first answer, updated when the records change.
 */
class DnsUpstreamIT {

  private final EventLoopGroup loops = Transport.selected().newLoopGroup(1, "dns-it-io");
  private final Upstreams upstreams = new Upstreams(Transport.selected(), loops, 1);
  private final SyslogSinks sinks = new SyslogSinks();
  private TestDnsServer dns;
  private ConfigCompiler compiler;

  @BeforeEach
  void start() throws Exception {
    dns = new TestDnsServer();
    compiler =
        new ConfigCompiler(
            upstreams,
            HttpRouteStats::new,
            new StreamMetrics(),
            sinks,
            null,
            new CertificateCompiler(TlsSettings.DEFAULTS, new TlsMetrics()),
            PluginRegistry.load(),
            new PluginServices(),
            DnsSettings.SYSTEM
                .withNameservers(List.of(dns.address()))
                .withTtlBounds(Duration.ofMillis(200), Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    compiler.close();
    compiler.pluginServices().close();
    dns.close();
    sinks.close();
    upstreams.close();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private void load(String yaml) throws Exception {
    var objects = StandaloneFile.parse(yaml.getBytes(StandardCharsets.UTF_8), "apisix.yaml");
    var items = new HashMap<Key, ConfigItem>();
    objects.forEach((k, v) -> items.put(k, new ConfigItem(k, v, 1)));
    compiler.accept(ConfigSnapshot.of(items, 1));
  }

  private List<String> nodes(String upstream) {
    var rt = compiler.current().upstreams().get(upstream);
    return rt == null
        ? List.of()
        : rt.config().nodes().nodes().stream().map(n -> n.address()).toList();
  }

  @Test
  void upstreamNodesFollowTheNamesRecords() throws Exception {
    dns.set("backend.test", a("127.0.0.21", 0));
    load(
        """
        upstreams:
          - id: by-dns
            discovery_type: dns
            service_name: backend.test:8080
          - id: nowhere
            discovery_type: dns
            service_name: nowhere.test:80
        routes:
          - id: 1
            uri: /a
            upstream_id: by-dns
        #END
        """);
    assertThat(compiler.lastRejections()).isEmpty();
    assertThat(nodes("upstreams/by-dns")).containsExactly("127.0.0.21:8080");
    // A name that does not resolve: no nodes (503), the rest served.
    assertThat(nodes("upstreams/nowhere")).isEmpty();
    dns.set("backend.test", a("127.0.0.22", 0), a("127.0.0.23", 0));
    await().atMost(Duration.ofSeconds(5)).until(() -> nodes("upstreams/by-dns").size() == 2);
    assertThat(nodes("upstreams/by-dns")).containsExactly("127.0.0.22:8080", "127.0.0.23:8080");
  }
}
