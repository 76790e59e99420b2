package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.archway.dataplane.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloadIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;
  TestUpstream a;
  TestUpstream b;
  Gateways gw;

  @BeforeEach
  void upstreams() throws Exception {
    a = new TestUpstream("a");
    b = new TestUpstream("b");
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    a.close();
    b.close();
  }

  private String config(int version, String... nodes) {
    var n = new StringBuilder();
    for (var node : nodes) {
      n.append("      \"").append(node).append("\": 1\n");
    }
    return """
        upstreams:
          - id: web
            nodes:
        %s
        routes:
          - id: main
            uri: /*
            upstream_id: web
          - id: extra-%d
            uri: /extra/%d
            upstream_id: web
        """
        .formatted(n.toString().stripTrailing(), version, version);
  }

  @Test
  void reloadsUnderLoadFailNoRequestAndKeepPools() throws Exception {
    gw = Gateways.start(dir, config(0, a.node()));
    var stop = new AtomicBoolean();
    var ok = new AtomicInteger();
    var failures = new ConcurrentHashMap<String, Integer>();
    var threads = new ArrayList<Thread>();
    for (int t = 0; t < 4; t++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    while (!stop.get()) {
                      try {
                        var res =
                            gw.client()
                                .send(
                                    HttpRequest.newBuilder(URI.create(gw.url("/load"))).build(),
                                    HttpResponse.BodyHandlers.ofString());
                        if (res.statusCode() == 200) {
                          ok.incrementAndGet();
                        } else {
                          failures.merge("status " + res.statusCode(), 1, Integer::sum);
                        }
                      } catch (Exception e) {
                        failures.merge(e.toString(), 1, Integer::sum);
                      }
                    }
                  }));
    }
    for (int i = 1; i <= 8; i++) {
      gw.reload(i % 2 == 0 ? config(i, a.node()) : config(i, a.node(), b.node()));
      // Some load served under each config before the next.
      var served = ok.get();
      await().atMost(WAIT).until(() -> ok.get() >= served + 15);
    }
    stop.set(true);
    for (var t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    assertThat(ok.get()).isGreaterThan(100);
    // The pool to the node that never left survived the reloads: at most 4 connections per event
    // loop, plus one for each connection retired after its 1,000th request (keepalive_pool
    // requests), which a fast run reaches.
    assertThat(a.connections()).isLessThanOrEqualTo(8 + ok.get() / 1000);
  }

  @Test
  void aRemovedNodeIsDrainedNotCut() throws Exception {
    gw = Gateways.start(dir, config(0, a.node()));
    // The node takes its time to answer: the request is in flight while the node is removed.
    var slow =
        gw.client()
            .sendAsync(
                HttpRequest.newBuilder(URI.create(gw.url("/delay/1500"))).build(),
                HttpResponse.BodyHandlers.ofString());
    await().atMost(WAIT).until(() -> a.requests() == 1);
    gw.reload(config(1, b.node()));
    assertThat(slow).isNotDone();
    var res = slow.get();
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("a");
    assertThat(gw.get("/now").body()).isEqualTo("b");
  }
}
