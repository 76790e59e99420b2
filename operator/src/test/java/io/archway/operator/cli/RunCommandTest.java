package io.archway.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The replica's identity in the Lease. */
class RunCommandTest {

  @Test
  void theIdentityIsThePodsNameElseTheHostsNameAndTheProcessId() {
    assertThat(RunCommand.identity("archway-operator-7d9f-x2", () -> "node", 1))
        .isEqualTo("archway-operator-7d9f-x2");
    // Two replicas on one host (no POD_NAME) must not share one name: both would hold the Lease.
    assertThat(RunCommand.identity(null, () -> "node", 41))
        .isEqualTo("node-41")
        .isNotEqualTo(RunCommand.identity(null, () -> "node", 42));
    assertThat(RunCommand.identity("", () -> null, 7)).isEqualTo("archway-operator-7");
    assertThat(
            RunCommand.identity(
                " ",
                () -> {
                  throw new IllegalStateException("no host name");
                },
                7))
        .isEqualTo("archway-operator-7");
  }

  @Test
  void dnsServersAreAddressesWithAnOptionalPort() throws Exception {
    assertThat(RegistryOptions.dnsServers("10.0.0.10, 10.0.0.11:5353,[fd00::53]:53"))
        .containsExactly(
            new java.net.InetSocketAddress("10.0.0.10", 53),
            new java.net.InetSocketAddress("10.0.0.11", 5353),
            new java.net.InetSocketAddress("fd00::53", 53));
    assertThat(RegistryOptions.dnsServers(null)).isEmpty();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> RegistryOptions.dnsServers("dns.local"))
        .hasMessage("--dns-server: \"dns.local\" (expected: an IP address, optionally with :PORT)");
  }
}
