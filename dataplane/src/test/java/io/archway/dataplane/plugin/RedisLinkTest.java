package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Links to Redis servers and clusters: shared per settings, let go when nothing holds them. */
class RedisLinkTest {

  static RedisLink.ClusterSettings cluster(String name, String... nodes) {
    return new RedisLink.ClusterSettings(List.of(nodes), name, null, 500, false, false);
  }

  @Test
  void oneLinkPerDistinctSettings() {
    try (var services = new PluginServices()) {
      var a = services.redis(cluster("c", "127.0.0.1:7000", "127.0.0.1:7001"));
      assertThat(services.redis(cluster("c", "127.0.0.1:7000", "127.0.0.1:7001"))).isSameAs(a);
      assertThat(services.redis(cluster("d", "127.0.0.1:7000", "127.0.0.1:7001"))).isNotSameAs(a);
      var one = services.redis(new RedisLink.Settings("127.0.0.1", 6379, null, null, 0, 500));
      assertThat(one).isNotSameAs(a);
      assertThat(services.redis(new RedisLink.Settings("127.0.0.1", 6379, null, null, 0, 500)))
          .isSameAs(one);
    }
  }

  @Test
  void aLinkNoConfigurationHoldsIsClosed() {
    try (var services = new PluginServices()) {
      int before = RedisLink.open();
      var ref = new WeakReference<>(services.redis(cluster("gone", "127.0.0.1:7000")));
      assertThat(RedisLink.open()).isEqualTo(before + 1);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                System.gc();
                return ref.get() == null && RedisLink.open() == before;
              });
      // Named again: a new link.
      assertThat(services.redis(cluster("gone", "127.0.0.1:7000"))).isNotNull();
      assertThat(RedisLink.open()).isEqualTo(before + 1);
    }
  }

  @Test
  void clusterKeysAreTheirOwnHashTag() {
    try (var services = new PluginServices()) {
      assertThat(services.redis(cluster("c", "127.0.0.1:7000")).key("archway:x:", "routes/r:1"))
          .isEqualTo("archway:x:{routes/r:1}");
      assertThat(
              services
                  .redis(new RedisLink.Settings("127.0.0.1", 6379, null, null, 0, 500))
                  .key("archway:x:", "routes/r:1"))
          .isEqualTo("archway:x:routes/r:1");
    }
  }

  @Test
  void aNodeMustBeHostAndPort() {
    assertThatThrownBy(() -> cluster("c", "127.0.0.1"))
        .hasMessage("redis_cluster_nodes: \"127.0.0.1\" (expected: host:port)");
    assertThatThrownBy(() -> cluster("c", "h:99999"))
        .hasMessage("redis_cluster_nodes: \"h:99999\" (expected: host:port)");
    assertThat(cluster("c", "[::1]:7000", "redis-0.redis:6379").nodes()).hasSize(2);
  }
}
