package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.ConfigState;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The compiler's incremental path against a compile from scratch: random sequences of routes,
 * services and upstreams put and deleted (routes inheriting hosts and upstreams from services,
 * inline upstreams, missing references), and after each change every probe request matches the same
 * route object in the incrementally compiled config as in a new compiler's compile of the same
 * snapshot. Seeded: a failure names its seed and step.
 */
class IncrementalCompileTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] PATHS = {"/", "/a", "/a/*", "/*", "/u/:id", "/u/me", "/ab*"};
  private static final String[] HOSTS = {"a.com", "*.a.com", "b.org"};
  private static final String[] PROBE_PATHS = {"/", "/a", "/a/b", "/ab", "/u/7", "/u/me", "/z"};
  private static final String[] PROBE_HOSTS = {"", "a.com", "www.a.com", "b.org"};

  @Test
  void incrementalCompilesRouteAsCompilesFromScratch() throws Exception {
    var loops = Transport.selected().newLoopGroup(1, "incremental-io");
    var upstreams = new Upstreams(Transport.selected(), loops, 1);
    var scratchUpstreams = new Upstreams(Transport.selected(), loops, 1);
    var sinks = new SyslogSinks();
    var registry = PluginRegistry.load();
    var services = new PluginServices();
    try {
      var compiler = compiler(upstreams, sinks, registry, services);
      int hits = 0;
      for (long seed = 1; seed <= 12; seed++) {
        var holder = new ConfigHolder();
        holder.subscribe(compiler);
        holder.onState(new ConfigState(java.util.Map.of(), 0));
        var rnd = new Random(seed);
        long rev = 0;
        for (int step = 0; step < 30; step++) {
          var changes = new ArrayList<ConfigChange>();
          int n = 1 + rnd.nextInt(step == 0 ? 20 : 3);
          for (int k = 0; k < n; k++) {
            changes.add(randomChange(rnd, holder.current(), ++rev));
          }
          holder.onChanges(changes, ++rev);
          var scratch = compiler(scratchUpstreams, sinks, registry, services);
          scratch.accept(holder.current());
          for (var host : PROBE_HOSTS) {
            for (var path : PROBE_PATHS) {
              for (var method : List.of("GET", "POST")) {
                var hit = match(compiler, method, path, host);
                hits += hit == null ? 0 : 1;
                assertThat(hit)
                    .as("seed %d step %d: %s %s host %s", seed, step, method, path, host)
                    .isSameAs(match(scratch, method, path, host));
              }
            }
          }
        }
      }
      // The probes reach routes, not only 404s: the comparison is not vacuous.
      assertThat(hits).isGreaterThan(1000);
    } finally {
      services.close();
      sinks.close();
      upstreams.close();
      scratchUpstreams.close();
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  static ConfigCompiler compiler(
      Upstreams upstreams, SyslogSinks sinks, PluginRegistry registry, PluginServices services) {
    return compiler(upstreams, HttpRouteStats::new, sinks, registry, services);
  }

  static ConfigCompiler compiler(
      Upstreams upstreams,
      HttpRouteStats.Source routeStats,
      SyslogSinks sinks,
      PluginRegistry registry,
      PluginServices services) {
    return new ConfigCompiler(
        upstreams,
        routeStats,
        new StreamMetrics(),
        sinks,
        null,
        new CertificateCompiler(TlsSettings.DEFAULTS, new TlsMetrics()),
        registry,
        services);
  }

  /** The matched route's model object (the same object in both compiles), or null. */
  private static Object match(ConfigCompiler c, String method, String path, String host) {
    var h = new DefaultHttpHeaders();
    if (!host.isEmpty()) {
      h.set("Host", host);
    }
    var hit = c.current().router().match(RequestVars.of(method, path, h, "10.1.2.3"));
    return hit == null ? null : hit.target().route();
  }

  private static ConfigChange randomChange(Random rnd, ConfigSnapshot current, long rev)
      throws Exception {
    var kind =
        rnd.nextInt(4) == 0 ? Kind.SERVICES : rnd.nextInt(4) == 0 ? Kind.UPSTREAMS : Kind.ROUTES;
    var id = kind.dir().charAt(0) + String.valueOf(rnd.nextInt(kind == Kind.ROUTES ? 12 : 3));
    if (current.items(kind).containsKey(id) && rnd.nextInt(4) == 0) {
      return new ConfigChange.Delete(new Key(kind, id), rev);
    }
    var json = new HashMap<String, Object>();
    json.put("id", id);
    switch (kind) {
      case UPSTREAMS -> json.put("nodes", java.util.Map.of("127.0.0.1:" + (1 + rnd.nextInt(3)), 1));
      case SERVICES -> {
        if (rnd.nextBoolean()) {
          json.put("hosts", List.of(HOSTS[rnd.nextInt(HOSTS.length)]));
        }
        json.put("upstream_id", "u" + rnd.nextInt(3));
      }
      default -> {
        json.put("uri", PATHS[rnd.nextInt(PATHS.length)]);
        if (rnd.nextInt(3) == 0) {
          json.put("host", HOSTS[rnd.nextInt(HOSTS.length)]);
        }
        if (rnd.nextBoolean()) {
          json.put("priority", rnd.nextInt(2));
        }
        if (rnd.nextInt(3) == 0) {
          json.put("methods", List.of("GET"));
        }
        switch (rnd.nextInt(3)) {
          case 0 -> json.put("service_id", "s" + rnd.nextInt(3));
          case 1 -> json.put("upstream_id", "u" + rnd.nextInt(3));
          default ->
              json.put("upstream", java.util.Map.of("nodes", java.util.Map.of("127.0.0.1:9", 1)));
        }
        if (rnd.nextInt(4) == 0) {
          json.put("status", 0);
        }
      }
    }
    var obj = ModelJson.read(kind, JSON.valueToTree(json), null, kind.dir() + "/" + id);
    return new ConfigChange.Put(new ConfigItem(new Key(kind, id), obj, rev));
  }
}
