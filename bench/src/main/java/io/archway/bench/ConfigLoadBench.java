package io.archway.bench;

import io.archway.dataplane.config.ConfigHolder;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.source.EtcdConfigSource;
import io.archway.model.testing.EtcdServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The foundation benchmark: with N routes in a real etcd, (1) the time from starting a config
 * source to the first full snapshot in the dataplane's {@link ConfigHolder}, and (2) the latency
 * from issuing a put to the holder publishing a snapshot that has it, over M sequential puts. The
 * peer in the same run is a bare jetcd watch on the same prefix: what etcd itself takes to tell a
 * client, so the ratio is Archway's own cost.
 *
 * <p>{@code bench/run config [routes] [puts] [loads]}
 */
public final class ConfigLoadBench {

  private ConfigLoadBench() {}

  public static void main(String[] args) throws Exception {
    int routes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int puts = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    int loads = args.length > 2 ? Integer.parseInt(args[2]) : 7;
    var keys = Keys.of("/apisix");
    try (var etcd = new EtcdServer().start();
        var client = Client.builder().endpoints(etcd.endpoint()).build()) {
      System.out.printf(
          "etcd %s, %d routes, %d puts, %d loads%n", etcd.endpoint(), routes, puts, loads);
      long bytes = seed(client, keys, routes);
      System.out.printf("seeded %d routes, %.1f MiB of JSON%n", routes, bytes / 1048576.0);

      var loadMs = new ArrayList<Double>();
      for (int i = 0; i < loads; i++) {
        loadMs.add(firstSnapshotMs(etcd.endpoint(), routes));
      }
      var sorted = loadMs.stream().sorted().toList();
      System.out.printf(
          "time to first full snapshot (ms): median %.0f, min %.0f, max %.0f  (runs: %s)%n",
          sorted.get(sorted.size() / 2),
          sorted.get(0),
          sorted.get(sorted.size() - 1),
          loadMs.stream().map(d -> String.format("%.0f", d)).toList());

      latency(client, etcd.endpoint(), keys, routes, puts);
    }
  }

  private static long seed(Client client, Keys keys, int routes) throws Exception {
    long bytes = 0;
    var kv = client.getKVClient();
    for (int start = 0; start < routes; start += 100) {
      var ops = new ArrayList<Op>();
      for (int i = start; i < Math.min(routes, start + 100); i++) {
        var json = route(i, "v1");
        bytes += json.length();
        ops.add(
            Op.put(
                ByteSequence.from(keys.key(Kind.ROUTES, "r" + i), StandardCharsets.UTF_8),
                ByteSequence.from(json, StandardCharsets.UTF_8),
                PutOption.DEFAULT));
      }
      kv.txn().Then(ops.toArray(Op[]::new)).commit().get();
    }
    return bytes;
  }

  /** A realistic route: hosts, methods, vars, two plugins and an inline upstream with checks. */
  static String route(int i, String version) {
    return """
        {"id":"r%d","uri":"/api/%s/svc%d/*","hosts":["svc%d.example.com","*.svc%d.example.com"],\
        "methods":["GET","POST"],"priority":%d,"vars":[["http_x_tenant","==","t%d"]],\
        "plugins":{"limit-count":{"count":100,"time_window":60,"rejected_code":429},\
        "proxy-rewrite":{"regex_uri":["^/api/(.*)","/$1"]}},\
        "upstream":{"type":"roundrobin","nodes":{"10.0.%d.%d:8080":1,"10.1.%d.%d:8080":1},\
        "checks":{"active":{"http_path":"/healthz","healthy":{"interval":2}}},"timeout":{"connect":1,"send":5,"read":10}},\
        "labels":{"managed-by":"archway","version":"%s"}}"""
        .formatted(
            i,
            version,
            i,
            i,
            i,
            i % 10,
            i % 50,
            i / 250 % 256,
            i % 250 + 1,
            i / 250 % 256,
            i % 250 + 1,
            version);
  }

  private static double firstSnapshotMs(String endpoint, int routes) throws Exception {
    var holder = new ConfigHolder();
    var settings = EtcdConfigSource.Settings.of(List.of(endpoint), "/apisix");
    long t0 = System.nanoTime();
    try (var source = new EtcdConfigSource(settings)) {
      source.start(holder);
      while (!holder.loaded()) {
        LockSupport.parkNanos(100_000);
        if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(60)) {
          throw new IllegalStateException("no snapshot in 60 s");
        }
      }
      double ms = (System.nanoTime() - t0) / 1e6;
      if (holder.current().count(Kind.ROUTES) != routes) {
        throw new IllegalStateException(
            "snapshot has " + holder.current().count(Kind.ROUTES) + " routes, expected " + routes);
      }
      return ms;
    }
  }

  private static void latency(Client client, String endpoint, Keys keys, int routes, int puts)
      throws Exception {
    var holder = new ConfigHolder();
    Map<String, Long> archwaySeen = new ConcurrentHashMap<>();
    Map<String, Long> etcdSeen = new ConcurrentHashMap<>();
    // The one route being changed now and the version it is changed to.
    Map<String, String> pending = new ConcurrentHashMap<>();
    holder.subscribe(
        snap -> {
          long now = System.nanoTime();
          // Only the newest changed route matters; look it up by the label we bump.
          for (var e : pending.entrySet()) {
            var item = snap.items(Kind.ROUTES).get(e.getKey());
            if (item != null && e.getValue().equals(item.value().labels().get("version"))) {
              archwaySeen.putIfAbsent(e.getKey() + "@" + e.getValue(), now);
            }
          }
        });
    var root = ByteSequence.from(keys.root(), StandardCharsets.UTF_8);
    try (var source =
            new EtcdConfigSource(EtcdConfigSource.Settings.of(List.of(endpoint), "/apisix"));
        var watcher =
            client
                .getWatchClient()
                .watch(
                    root,
                    WatchOption.builder().isPrefix(true).build(),
                    Watch.listener(
                        res -> {
                          long now = System.nanoTime();
                          for (var ev : res.getEvents()) {
                            var k = ev.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
                            var v = ev.getKeyValue().getValue().toString(StandardCharsets.UTF_8);
                            int at = v.indexOf("\"version\":\"");
                            var version = v.substring(at + 11, v.indexOf('"', at + 11));
                            etcdSeen.putIfAbsent(
                                k.substring(k.lastIndexOf('/') + 1) + "@" + version, now);
                          }
                        }))) {
      source.start(holder);
      while (!holder.loaded()) {
        LockSupport.parkNanos(1_000_000);
      }
      var kv = client.getKVClient();
      long[] archway = new long[puts];
      long[] direct = new long[puts];
      for (int n = 0; n < puts; n++) {
        int i = n * 7 % routes;
        var id = "r" + i;
        var version = "p" + n;
        pending.clear();
        pending.put(id, version);
        long t0 = System.nanoTime();
        kv.put(
                ByteSequence.from(keys.key(Kind.ROUTES, id), StandardCharsets.UTF_8),
                ByteSequence.from(route(i, version), StandardCharsets.UTF_8))
            .get();
        var tag = id + "@" + version;
        long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
        while ((!archwaySeen.containsKey(tag) || !etcdSeen.containsKey(tag))
            && System.nanoTime() < deadline) {
          LockSupport.parkNanos(20_000);
        }
        if (!archwaySeen.containsKey(tag) || !etcdSeen.containsKey(tag)) {
          throw new IllegalStateException("put " + tag + " not delivered in 10 s");
        }
        archway[n] = archwaySeen.get(tag) - t0;
        direct[n] = etcdSeen.get(tag) - t0;
      }
      report("put -> Archway snapshot", archway);
      report("put -> bare jetcd watch (peer)", direct);
      Arrays.sort(archway);
      Arrays.sort(direct);
      System.out.printf(
          "ratio Archway/peer: p50 %.2f, p99 %.2f%n",
          (double) pct(archway, 50) / pct(direct, 50), (double) pct(archway, 99) / pct(direct, 99));
    }
  }

  private static void report(String what, long[] nanos) {
    var s = nanos.clone();
    Arrays.sort(s);
    System.out.printf(
        "%s latency (ms): p50 %.2f, p90 %.2f, p99 %.2f, max %.2f%n",
        what, pct(s, 50) / 1e6, pct(s, 90) / 1e6, pct(s, 99) / 1e6, s[s.length - 1] / 1e6);
  }

  private static long pct(long[] sorted, int p) {
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }
}
