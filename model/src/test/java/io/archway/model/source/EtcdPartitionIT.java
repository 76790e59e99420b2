package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.model.Keys;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.PeerRelay;
import io.archway.model.testing.Ports;
import io.archway.model.testing.RecordingListener;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The source's watch on a member cut off from its peers by a partition, not killed: a real etcd
 * cluster of three members whose raft traffic goes through relays the test controls ({@link
 * PeerRelay}). The member keeps running and keeps its clients' connections; without etcd's
 * require-leader option it would keep the watch open and never send another event.
 */
class EtcdPartitionIT {

  private static final int SIZE = 3;
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final String prefix = "/partition";
  private final Keys keys = Keys.of(prefix);
  private final int[] clientPorts = new int[SIZE];
  private final int[] peerPorts = new int[SIZE];
  private final PeerRelay[] relays = new PeerRelay[SIZE];
  private final Process[] members = new Process[SIZE];
  private final String[] ids = new String[SIZE];
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Path dir;

  @BeforeEach
  void startCluster() throws Exception {
    dir = Files.createTempDirectory("archway-etcd-partition-");
    var taken = new HashSet<Integer>();
    for (int i = 0; i < SIZE; i++) {
      clientPorts[i] = distinctPort(taken);
      peerPorts[i] = distinctPort(taken);
      relays[i] = new PeerRelay(peerPorts[i]);
    }
    var cluster = new ArrayList<String>();
    for (int i = 0; i < SIZE; i++) {
      cluster.add("m" + i + "=" + relayUrl(i));
    }
    for (int i = 0; i < SIZE; i++) {
      launch(i, String.join(",", cluster));
    }
    for (int i = 0; i < SIZE; i++) {
      int member = i;
      await("etcd member m" + i + " healthy")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptions()
          .until(() -> get(member, "/health").contains("\"health\":\"true\""));
    }
    try (var c = client(endpoints())) {
      for (var m : c.getClusterClient().listMember().get(30, TimeUnit.SECONDS).getMembers()) {
        int i = Integer.parseInt(m.getName().substring(1));
        ids[i] = Long.toUnsignedString(m.getId(), 16).toLowerCase(Locale.ROOT);
      }
    }
  }

  private static int distinctPort(HashSet<Integer> taken) {
    int p;
    do {
      p = Ports.free();
    } while (!taken.add(p));
    return p;
  }

  /**
   * One member, its raft traffic through its relay; elections fast (heartbeat 50 ms, election 500
   * ms) so that a member cut off knows it has no leader within a second or two.
   */
  private void launch(int i, String cluster) throws IOException {
    var cmd =
        List.of(
            EtcdServer.binary("etcd", "ARCHWAY_ETCD"),
            "--name",
            "m" + i,
            "--data-dir",
            dir.resolve("m" + i).toString(),
            "--listen-client-urls",
            endpoint(i),
            "--advertise-client-urls",
            endpoint(i),
            "--listen-peer-urls",
            "http://127.0.0.1:" + peerPorts[i],
            "--initial-advertise-peer-urls",
            relayUrl(i),
            "--initial-cluster",
            cluster,
            "--initial-cluster-token",
            dir.getFileName().toString(),
            "--initial-cluster-state",
            "new",
            "--heartbeat-interval",
            "50",
            "--election-timeout",
            "500",
            "--log-level",
            "warn",
            "--logger",
            "zap");
    members[i] =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("m" + i + ".log").toFile())
            .start();
  }

  @AfterEach
  void stopCluster() throws Exception {
    for (var c : closeables.reversed()) {
      c.close();
    }
    for (var p : members) {
      if (p != null) {
        p.destroyForcibly().waitFor();
      }
    }
    for (var r : relays) {
      if (r != null) {
        r.close();
      }
    }
    http.close();
    if (dir != null) {
      EtcdServer.deleteRecursively(dir);
    }
  }

  private String endpoint(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  private List<String> endpoints() {
    return IntStream.range(0, SIZE).mapToObj(this::endpoint).toList();
  }

  private String relayUrl(int i) {
    return "http://127.0.0.1:" + relays[i].port();
  }

  private Client client(List<String> endpoints) {
    return Client.builder().endpoints(endpoints.toArray(String[]::new)).build();
  }

  private String get(int member, String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(endpoint(member) + path))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** How many watchers this member serves (etcd's own gauge). */
  private int watchers(int member) {
    return get(member, "/metrics")
        .lines()
        .filter(l -> l.startsWith("etcd_debugging_mvcc_watcher_total "))
        .mapToInt(l -> (int) Double.parseDouble(l.substring(l.indexOf(' ') + 1)))
        .findFirst()
        .orElse(0);
  }

  /** Cuts {@code member} off from its peers: no raft message either way. */
  private void isolate(int member) {
    for (int j = 0; j < SIZE; j++) {
      var id = ids[member];
      relays[j].refuse(j == member ? any -> true : from -> from.equals(id));
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String routeJson(int i) {
    return "{\"uri\":\"/r/" + i + "\",\"upstream_id\":\"u\"}";
  }

  @Test
  void aWatchOnAMemberCutOffFromItsPeersMovesToAnotherAndLosesNothing() throws Exception {
    try (var writer = client(endpoints())) {
      writer
          .getKVClient()
          .put(bytes(keys.key(Kind.ROUTES, "r1")), bytes(routeJson(1)))
          .get(30, TimeUnit.SECONDS);
    }
    var source =
        new EtcdConfigSource(
            EtcdConfigSource.Settings.of(endpoints(), prefix)
                .withTiming(Duration.ofMillis(500), Duration.ofMillis(50), Duration.ofMillis(500)));
    closeables.add(source);
    var listener = new RecordingListener();
    source.start(listener);
    await().atMost(WAIT).until(() -> listener.current().size() == 1);

    // The member the source watches on: the one serving a watcher.
    int watched =
        await()
            .atMost(WAIT)
            .ignoreExceptions()
            .until(
                () -> IntStream.range(0, SIZE).filter(i -> watchers(i) > 0).findFirst().orElse(-1),
                i -> i >= 0);
    isolate(watched);
    int other = (watched + 1) % SIZE;
    try (var writer = client(List.of(endpoint(other)))) {
      // The two left elect a leader if they lost theirs: the write goes through once they have.
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .until(
              () ->
                  writer
                          .getKVClient()
                          .put(bytes(keys.key(Kind.ROUTES, "r2")), bytes(routeJson(2)))
                          .get(5, TimeUnit.SECONDS)
                      != null);
    }

    await().atMost(WAIT).until(() -> listener.current().containsKey(new Key(Kind.ROUTES, "r2")));
    // The watch resumed elsewhere from its revision: nothing read again.
    assertThat(listener.states()).isEqualTo(1);
    assertThat(watchers(watched)).isZero();
  }
}
