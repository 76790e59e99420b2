package io.archway.dataplane.discovery;

import static io.archway.dataplane.discovery.TestDnsServer.a;
import static io.archway.dataplane.discovery.TestDnsServer.aaaa;
import static io.archway.dataplane.discovery.TestDnsServer.srv;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.UpstreamNode;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DNS discovery against a real DNS server in the test (UDP on loopback). */
class DnsDiscoveryIT {

  private TestDnsServer dns;
  private DnsDiscovery discovery;
  private final AtomicInteger changes = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    dns = new TestDnsServer();
    discovery =
        new DnsDiscovery(
            DnsSettings.SYSTEM
                .withNameservers(List.of(dns.address()))
                .withTtlBounds(Duration.ofMillis(200), Duration.ofSeconds(2)),
            changes::incrementAndGet);
  }

  @AfterEach
  void stop() {
    discovery.close();
    dns.close();
  }

  private static UpstreamNode node(String host, Integer port) {
    return new UpstreamNode(host, port, 1, null, null);
  }

  @Test
  void aNameResolvesToItsAddressesBeforeTheCompileGoesOn() throws Exception {
    dns.set("web.test", a("127.0.0.2", 60), a("127.0.0.1", 60), aaaa("::1", 60));
    discovery.retain(Set.of("web.test:8080", "web.test"));
    assertThat(discovery.nodes("web.test:8080"))
        .containsExactlyInAnyOrder(
            node("0:0:0:0:0:0:0:1", 8080), node("127.0.0.1", 8080), node("127.0.0.2", 8080));
    // No port: the upstream's scheme gives it.
    assertThat(discovery.nodes("web.test")).contains(node("127.0.0.1", null));
    // The compile that asked read the answer itself: nothing to recompile.
    assertThat(changes).hasValue(0);
  }

  @Test
  void aNameIsResolvedAgainAtItsTtlAndAChangeRecompiles() throws Exception {
    dns.set("api.test", a("127.0.0.1", 0));
    discovery.retain(Set.of("api.test:80"));
    assertThat(discovery.nodes("api.test:80")).containsExactly(node("127.0.0.1", 80));
    dns.set("api.test", a("127.0.0.3", 0), a("127.0.0.4", 0));
    await().atMost(Duration.ofSeconds(5)).until(() -> discovery.nodes("api.test:80").size() == 2);
    assertThat(discovery.nodes("api.test:80"))
        .containsExactly(node("127.0.0.3", 80), node("127.0.0.4", 80));
    await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() >= 1);
    // Answers that do not change recompile nothing.
    int queries = dns.queries.get();
    int before = changes.get();
    await().atMost(Duration.ofSeconds(5)).until(() -> dns.queries.get() >= queries + 4);
    assertThat(changes).hasValue(before);
  }

  @Test
  void aNameThatDoesNotResolveHasNoNodesUntilItDoes() throws Exception {
    discovery.retain(Set.of("missing.test:80"));
    assertThat(discovery.nodes("missing.test:80")).isEmpty();
    dns.set("missing.test", a("127.0.0.5", 0));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> discovery.nodes("missing.test:80").equals(List.of(node("127.0.0.5", 80))));
    // The recompile is asked for on a thread of its own, just after the nodes change.
    await().atMost(Duration.ofSeconds(5)).until(() -> changes.get() >= 1);
    dns.remove("missing.test");
    await().atMost(Duration.ofSeconds(5)).until(() -> discovery.nodes("missing.test:80").isEmpty());
  }

  @Test
  void anUnderscoreNameIsReadFromItsSrvRecords() throws Exception {
    dns.set(
        "_http._tcp.svc.test",
        srv(10, 5, 9001, "one.svc.test", 60),
        srv(20, 1, 9002, "two.svc.test", 60));
    dns.set("one.svc.test", a("127.0.0.11", 60));
    dns.set("two.svc.test", a("127.0.0.12", 60));
    discovery.retain(Set.of("_http._tcp.svc.test"));
    assertThat(discovery.nodes("_http._tcp.svc.test"))
        .containsExactly(
            new UpstreamNode("127.0.0.11", 9001, 5, -10, null),
            new UpstreamNode("127.0.0.12", 9002, 1, -20, null));
  }

  @Test
  void namesNoLongerUsedAreForgotten() throws Exception {
    dns.set("gone.test", a("127.0.0.1", 0));
    discovery.retain(Set.of("gone.test:80"));
    assertThat(discovery.nodes("gone.test:80")).hasSize(1);
    discovery.retain(Set.of());
    assertThat(discovery.nodes("gone.test:80")).isEmpty();
    int queries = dns.queries.get();
    // No more queries for it (one may have been in flight).
    await()
        .during(Duration.ofMillis(600))
        .atMost(Duration.ofSeconds(2))
        .until(() -> dns.queries.get() <= queries + 2);
  }
}
