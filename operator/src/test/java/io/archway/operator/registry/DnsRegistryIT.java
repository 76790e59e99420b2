package io.archway.operator.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.UpstreamNode;
import io.archway.operator.testing.Dnsmasq;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's DNS registry against a real DNS server: dnsmasq on a random loopback port with its
 * own hosts and SRV records, a 1 s TTL. A/AAAA, SRV, refresh at the TTL, and an outage that keeps
 * the last nodes.
 */
class DnsRegistryIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private Dnsmasq dnsmasq;
  private Registries registries;

  @BeforeEach
  void start() throws Exception {
    dnsmasq =
        new Dnsmasq(
            1,
            "_http._tcp.shop.test,web1.shop.test,8080,0,10",
            "_http._tcp.shop.test,web2.shop.test,8081,1,20");
    dnsmasq.hosts(
        "shop",
        "10.0.0.1 web1.shop.test\n10.0.0.2 web2.shop.test\n10.0.1.1 api.shop.test\n"
            + "fd00::1 api.shop.test\n");
    registries =
        new Registries(
            List.of(
                new DnsRegistry(
                    new DnsRegistry.Settings(
                        List.of(dnsmasq.address()),
                        Duration.ofMillis(200),
                        Duration.ofSeconds(5),
                        Duration.ofMillis(500)))),
            new Registries.Settings(
                Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofSeconds(5)));
  }

  @AfterEach
  void stop() throws Exception {
    registries.close();
    dnsmasq.close();
  }

  @Test
  void aAaaaAndSrvAreResolvedAndFollowedThroughAnOutage() throws Exception {
    // dnsmasq may take a moment to bind: the first answer is awaited.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(registries.lookup("dns", "api.shop.test:9000").nodes())
                    .containsExactly(
                        new UpstreamNode("10.0.1.1", 9000, 1, null, null),
                        new UpstreamNode("fd00:0:0:0:0:0:0:1", 9000, 1, null, null)));
    // SRV: each target's address, the record's port and weight, the priority negated.
    assertThat(registries.lookup("dns", "_http._tcp.shop.test").nodes())
        .containsExactly(
            new UpstreamNode("10.0.0.1", 8080, 10, 0, null),
            new UpstreamNode("10.0.0.2", 8081, 20, -1, null));

    // A record changes: seen again at the TTL.
    dnsmasq.hosts(
        "shop", "10.0.0.1 web1.shop.test\n10.0.0.9 web2.shop.test\n10.0.1.2 api.shop.test\n");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertThat(registries.lookup("dns", "api.shop.test:9000").nodes())
                  .containsExactly(new UpstreamNode("10.0.1.2", 9000, 1, null, null));
              assertThat(registries.lookup("dns", "_http._tcp.shop.test").nodes())
                  .extracting(UpstreamNode::host)
                  .containsExactly("10.0.0.1", "10.0.0.9");
            });

    // The server goes away: the error is named, the nodes stay; it comes back: it answers.
    dnsmasq.stop();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              var l = registries.lookup("dns", "api.shop.test:9000");
              assertThat(l.error()).startsWith("dns: api.shop.test:9000: ");
              assertThat(l.nodes()).hasSize(1);
            });
    dnsmasq.start();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(registries.lookup("dns", "api.shop.test:9000").error()).isNull());
  }
}
