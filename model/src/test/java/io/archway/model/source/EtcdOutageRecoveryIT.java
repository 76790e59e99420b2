package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.Keys;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.testing.EtcdExtension;
import io.archway.model.testing.RecordingListener;
import io.archway.model.testing.TcpProxy;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How soon the source, with the dataplane's own timing ({@link EtcdConfigSource.Settings#of}), is
 * back once etcd is, after an outage of {@code -Darchway.etcd.outage.seconds} (5 by default; 60 to
 * measure the long outage of docs/chaos.md): etcd killed and started again, or cut off by a proxy
 * that resets every connection. Each prints the time from etcd being back to a change written then
 * being delivered; what is asserted is that the change arrives and that the tries after a failure
 * were made on new clients, whose channels have no reconnect backoff to wait out.
 */
class EtcdOutageRecoveryIT {

  @RegisterExtension static final EtcdExtension etcd = new EtcdExtension();

  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final long OUTAGE = Long.getLong("archway.etcd.outage.seconds", 5);

  private final String prefix = "/outage" + PREFIXES.incrementAndGet();
  private final Keys keys = Keys.of(prefix);

  private void putRoute(int i) throws Exception {
    putRoute(etcd.client(), i);
  }

  private void putRoute(Client writer, int i) throws Exception {
    writer
        .getKVClient()
        .put(
            ByteSequence.from(keys.key(Kind.ROUTES, "r" + i), StandardCharsets.UTF_8),
            ByteSequence.from(
                "{\"uri\":\"/r/" + i + "\",\"upstream_id\":\"u\"}", StandardCharsets.UTF_8))
        .get();
  }

  private static Key route(int i) {
    return new Key(Kind.ROUTES, "r" + i);
  }

  @Test
  void etcdKilledForTheOutageIsFollowedAgainSoonAfterItIsBack() throws Exception {
    putRoute(1);
    var listener = new RecordingListener();
    try (var source =
        new EtcdConfigSource(EtcdConfigSource.Settings.of(List.of(etcd.endpoint()), prefix))) {
      source.start(listener);
      await().atMost(WAIT).until(() -> listener.current().containsKey(route(1)));

      etcd.server().kill();
      await().atMost(WAIT).until(() -> !source.status().connected());
      await()
          .pollDelay(Duration.ofSeconds(OUTAGE))
          .atMost(Duration.ofSeconds(OUTAGE + 5))
          .until(() -> true);
      etcd.server().start(); // returns once it answers
      long back = System.nanoTime();
      // A new client: the test's own would wait out its reconnect backoff.
      try (var writer = Client.builder().endpoints(etcd.endpoint()).build()) {
        putRoute(writer, 2);
      }
      await().atMost(WAIT).until(() -> listener.current().containsKey(route(2)));
      report("killed", back, source);
    }
  }

  @Test
  void etcdCutOffForTheOutageIsFollowedAgainSoonAfterItIsBack() throws Exception {
    putRoute(1);
    var listener = new RecordingListener();
    try (var proxy = new TcpProxy(etcd.server().clientPort());
        var source =
            new EtcdConfigSource(EtcdConfigSource.Settings.of(List.of(proxy.endpoint()), prefix))) {
      source.start(listener);
      await().atMost(WAIT).until(() -> listener.current().containsKey(route(1)));

      proxy.cut();
      await().atMost(WAIT).until(() -> !source.status().connected());
      await()
          .pollDelay(Duration.ofSeconds(OUTAGE))
          .atMost(Duration.ofSeconds(OUTAGE + 5))
          .until(() -> true);
      putRoute(2);
      proxy.restore();
      long back = System.nanoTime();
      await().atMost(WAIT).until(() -> listener.current().containsKey(route(2)));
      report("cut off", back, source);
    }
  }

  private void report(String how, long back, EtcdConfigSource source) {
    System.out.printf(
        "etcd %s for %d s: change delivered %d ms after etcd was back; %d client(s) made%n",
        how, OUTAGE, (System.nanoTime() - back) / 1_000_000, source.clientsMade());
    assertThat(source.clientsMade()).isGreaterThan(1);
  }
}
