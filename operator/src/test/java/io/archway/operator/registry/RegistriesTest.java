package io.archway.operator.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.UpstreamNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The shared mechanism with two registries driven by the test (the real ones are in {@link
 * ZooKeeperRegistryIT} and {@link DnsRegistryIT}): one that hangs does not hold up the other.
 */
class RegistriesTest {

  /** A registry whose watch never returns, as one whose server hangs. */
  private static final class Hanging implements Registry {
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public String type() {
      return "zookeeper";
    }

    @Override
    public Watch watch(String serviceName, Listener listener) {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return () -> {};
    }

    @Override
    public void close() {
      release.countDown();
    }
  }

  /** A registry that answers at once. */
  private static final class Answering implements Registry {
    @Override
    public String type() {
      return "dns";
    }

    @Override
    public Watch watch(String serviceName, Listener listener) {
      listener.nodes(List.of(new UpstreamNode("10.0.0.1", 80, 1, null, null)));
      return () -> {};
    }

    @Override
    public void close() {}
  }

  @Test
  void aHangingRegistryHoldsUpNoOtherAndItsLookupsAreBounded() {
    var hanging = new Hanging();
    try (var registries =
        new Registries(
            List.of(hanging, new Answering()),
            new Registries.Settings(Duration.ZERO, Duration.ZERO, Duration.ofMillis(300)))) {
      var stuck = registries.lookup("zookeeper", "svc");
      assertThat(stuck.known()).isFalse();
      assertThat(stuck.error()).isEqualTo("zookeeper: no answer for svc within 300 ms");
      // Another service of the hanging registry: bounded too.
      assertThat(registries.lookup("zookeeper", "svc2").known()).isFalse();
      var fine = registries.lookup("dns", "web.test:80");
      assertThat(fine.known()).isTrue();
      assertThat(fine.error()).isNull();
      assertThat(fine.nodes()).containsExactly(new UpstreamNode("10.0.0.1", 80, 1, null, null));
      assertThat(registries.lookup("consul", "svc")).isNull();
    }
  }

  @Test
  void aServiceIsFollowedWhileAnyUserWantsItAndEveryListenerHearsOfIt() {
    try (var registries = answering()) {
      var heard = new java.util.concurrent.CopyOnWriteArrayList<String>();
      registries.onChange((type, name) -> heard.add("resources " + name));
      registries.onChange((type, name) -> heard.add("seed " + name));
      var web = new Registries.Service("dns", "web.test:80");
      registries.retain(java.util.Set.of(web));
      registries.retain("seed", java.util.Set.of(web));
      assertThat(registries.peek("dns", "web.test:80")).isNotNull();
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(heard)
                      .containsExactlyInAnyOrder("resources web.test:80", "seed web.test:80"));
      assertThat(registries.peek("dns", "web.test:80").nodes()).hasSize(1);
      // The resources no longer name it; the seed still does.
      registries.retain(java.util.Set.of());
      assertThat(registries.followed()).containsExactly(web);
      registries.retain("seed", java.util.Set.of());
      assertThat(registries.followed()).isEmpty();
    }
  }

  @Test
  void anotherUsersRetainLeavesAServiceATranslationLookedUpAndTheResourcesHaveNotClaimedYet() {
    try (var registries = answering()) {
      var web = new Registries.Service("dns", "web.test:80");
      registries.retain("seed", java.util.Set.of(web));
      // A translation looks it up (an ApisixUpstream just named it); its claim is still to come.
      assertThat(registries.lookup("dns", "web.test:80").known()).isTrue();
      // The seed's last object stops naming it: the translation's service stays followed.
      registries.retain("seed", java.util.Set.of());
      assertThat(registries.followed()).containsExactly(web);
      // The resources claim it, then let it go.
      registries.retain(java.util.Set.of(web));
      assertThat(registries.followed()).containsExactly(web);
      registries.retain(java.util.Set.of());
      assertThat(registries.followed()).isEmpty();
    }
  }

  /** Registries over one registry that answers at once, undamped. */
  private static Registries answering() {
    return new Registries(
        List.of(new Answering()),
        new Registries.Settings(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(10)));
  }
}
