package io.archway.bench;

import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.translate.HTTPRouteTranslator;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * What {@link GatewayApiBench} observes with: a watch on the HTTPRoutes' status, a watch on an etcd
 * prefix, the dataplane process and requests to it, and polling until a condition holds.
 */
final class GatewayApiProbes {

  private static final long WAIT = TimeUnit.MINUTES.toNanos(20);

  private GatewayApiProbes() {}

  /**
   * Route by route, the generation its status says Accepted and ResolvedRefs for (Archway's entry),
   * from a watch.
   */
  static final class Statuses implements AutoCloseable {
    private final Map<String, Long> programmed = new ConcurrentHashMap<>();
    private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();

    /** Per route, the first time the watch delivered its latest generation (any status). */
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();

    private final Map<String, Waiter> seenWaiters = new ConcurrentHashMap<>();

    private record Seen(long generation, long at) {}

    private final io.fabric8.kubernetes.client.Watch watch;

    private record Waiter(long generation, CompletableFuture<Long> at) {}

    Statuses(KubernetesClient client, String namespace) {
      watch =
          client
              .resources(HTTPRoute.class)
              .inNamespace(namespace)
              .watch(
                  new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, HTTPRoute r) {
                      long now = System.nanoTime();
                      var name0 = r.getMetadata().getName();
                      var gen = r.getMetadata().getGeneration();
                      if (gen != null) {
                        seen.merge(
                            name0,
                            new Seen(gen, now),
                            (a, b) -> b.generation() > a.generation() ? b : a);
                        var sw = seenWaiters.get(name0);
                        if (sw != null && gen >= sw.generation()) {
                          sw.at().complete(now);
                        }
                      }
                      var g = generation(r);
                      if (g == null) {
                        return;
                      }
                      var name = r.getMetadata().getName();
                      programmed.merge(name, g, Math::max);
                      var w = waiters.get(name);
                      if (w != null && g >= w.generation()) {
                        w.at().complete(now);
                      }
                    }

                    @Override
                    public void onClose(WatcherException cause) {}
                  });
    }

    /** The generation the route is Accepted and ResolvedRefs for; null when none. */
    static Long generation(HTTPRoute r) {
      if (r.getStatus() == null || r.getStatus().getParents() == null) {
        return null;
      }
      for (var p : r.getStatus().getParents()) {
        if (!HTTPRouteTranslator.CONTROLLER.equals(p.getControllerName())) {
          continue;
        }
        var ok =
            p.getConditions().stream()
                .filter(c -> "True".equals(c.getStatus()))
                .filter(
                    c ->
                        c.getObservedGeneration() != null
                            && c.getObservedGeneration().equals(r.getMetadata().getGeneration()))
                .map(c -> c.getType())
                .toList();
        if (ok.contains("Accepted") && ok.contains("ResolvedRefs")) {
          return r.getMetadata().getGeneration();
        }
      }
      return null;
    }

    /** When the watch delivered the route at {@code generation} (the API server's own share). */
    CompletableFuture<Long> awaitSeen(String name, long generation) {
      var at = new CompletableFuture<Long>();
      seenWaiters.put(name, new Waiter(generation, at));
      var s = seen.get(name);
      if (s != null && s.generation() >= generation) {
        at.complete(s.at());
      }
      return at.whenComplete((x, e) -> seenWaiters.remove(name));
    }

    long programmed() {
      return programmed.size();
    }

    CompletableFuture<Long> await(String name, long generation) {
      var at = new CompletableFuture<Long>();
      waiters.put(name, new Waiter(generation, at));
      var g = programmed.get(name);
      if (g != null && g >= generation) {
        at.complete(System.nanoTime());
      }
      return at.whenComplete((x, e) -> waiters.remove(name));
    }

    @Override
    public void close() {
      watch.close();
    }
  }

  /** One watch on an etcd prefix, and futures completed at the first value a predicate accepts. */
  static final class EtcdWatch implements AutoCloseable {
    private record Waiter(Predicate<String> seen, CompletableFuture<Long> at) {}

    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
    private final io.etcd.jetcd.Watch.Watcher watcher;

    EtcdWatch(Client etcd, String prefix) {
      watcher =
          etcd.getWatchClient()
              .watch(
                  bytes(prefix),
                  WatchOption.builder().isPrefix(true).build(),
                  resp -> {
                    long now = System.nanoTime();
                    for (var e : resp.getEvents()) {
                      var v = e.getKeyValue().getValue().toString(StandardCharsets.UTF_8);
                      for (var w : waiters) {
                        if (w.seen().test(v)) {
                          w.at().complete(now);
                          waiters.remove(w);
                        }
                      }
                    }
                  });
    }

    CompletableFuture<Long> await(Predicate<String> seen) {
      var w = new Waiter(seen, new CompletableFuture<>());
      waiters.add(w);
      return w.at();
    }

    @Override
    public void close() {
      watcher.close();
    }
  }

  // ---- the dataplane --------------------------------------------------------------------------

  static Dataplane startDataplane(String etcd, Path dir) throws IOException {
    var d = new Dataplane();
    d.process =
        JarProcess.start(
            Path.of("dataplane/target/archway-dataplane.jar"),
            dir.resolve("dataplane.log"),
            BenchSupport.jvm("-Xms512m", "-Xmx512m", "-XX:+UseG1GC"),
            List.of(
                "--etcd",
                etcd,
                "--bind",
                "127.0.0.1",
                "--http-port",
                "" + Ports.free(),
                "--https-port",
                "0",
                "--admin-port",
                "off",
                "--status-port",
                "" + d.statusPort,
                "--access-log",
                "off"));
    return d;
  }

  static final class Dataplane implements AutoCloseable {
    final int statusPort = Ports.free();
    final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    Process process;

    /** Polls {@code path} on the listener's port until it answers 200. */
    void awaitServed(String host, int port, String path) throws Exception {
      var request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .header("Host", host)
              .timeout(Duration.ofSeconds(5))
              .build();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(host + path + " not served in 2 minutes");
        }
        Thread.onSpinWait();
      }
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  static void awaitStatus(int port) throws Exception {
    var http = HttpClient.newHttpClient();
    until(
        "the dataplane ready",
        () -> {
          try {
            return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                            .build(),
                        HttpResponse.BodyHandlers.discarding())
                    .statusCode()
                == 200;
          } catch (IOException e) {
            return false;
          }
        });
  }

  // ---- waiting --------------------------------------------------------------------------------

  interface Check {
    boolean ok() throws Exception;
  }

  static void until(String what, Check check) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not " + what + " after 2 minutes");
      }
      Thread.sleep(50);
    }
  }

  /** When {@code check} first holds (polled every 20 ms, for at most 20 minutes). */
  static long at(Check check) {
    long deadline = System.nanoTime() + WAIT;
    try {
      while (!check.ok()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("not reached in 20 minutes");
        }
        Thread.sleep(20);
      }
      return System.nanoTime();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static long count(Client etcd, String prefix) throws Exception {
    return etcd.getKVClient()
        .get(bytes(prefix), GetOption.builder().isPrefix(true).withCountOnly(true).build())
        .get()
        .getCount();
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
