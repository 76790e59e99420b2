package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.exchange.HttpRouteStats;
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
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cost of one route change with many routes present, as the Admin API benchmark makes it: the
 * compile of a single changed route, printed (no wall-clock bound: speed is measured in {@code
 * bench/run admin}, not asserted here); {@code -Dcompile.cost.routes=N} times a bigger config.
 */
class CompileCostTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void oneRouteChangeCostsLittleWithManyRoutes() throws Exception {
    int n = Integer.getInteger("compile.cost.routes", 10_000);
    var loops = Transport.selected().newLoopGroup(1, "cost-io");
    var upstreams = new Upstreams(Transport.selected(), loops, 1);
    var sinks = new SyslogSinks();
    var compiler =
        new ConfigCompiler(
            upstreams,
            HttpRouteStats::new,
            new StreamMetrics(),
            sinks,
            null,
            new CertificateCompiler(TlsSettings.DEFAULTS, new TlsMetrics()));
    try {
      var holder = new ConfigHolder();
      holder.subscribe(compiler);
      var all = new HashMap<Key, ConfigItem>();
      for (int i = 0; i < n; i++) {
        var item = route("r" + i, i);
        all.put(item.key(), item);
      }
      holder.onState(new ConfigState(all, n));
      long rev = n;
      long best = Long.MAX_VALUE;
      int rounds = Integer.getInteger("compile.cost.rounds", 40);
      for (int k = 0; k < rounds; k++) {
        var item = route("new" + k, n + k);
        holder.onChanges(List.of(new ConfigChange.Put(item)), ++rev);
        best = Math.min(best, compiler.lastCompileNanos());
        holder.onChanges(List.of(new ConfigChange.Delete(item.key(), rev)), ++rev);
        best = Math.min(best, compiler.lastCompileNanos());
      }
      System.out.printf("%d routes: one change compiles in %.3f ms (best)%n", n, best / 1e6);
      assertThat(compiler.current().revision()).isEqualTo(rev);
    } finally {
      compiler.pluginServices().close();
      sinks.close();
      upstreams.close();
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static ConfigItem route(String id, long revision) throws Exception {
    var json =
        """
        {"id":"%s","uri":"/bench/%s","methods":["GET"],"upstream":{"type":"roundrobin",\
        "nodes":{"127.0.0.1:9":1}},"labels":{"bench":"admin"}}"""
            .formatted(id, id);
    var obj = ModelJson.read(Kind.ROUTES, JSON.readTree(json), null, "routes/" + id);
    return new ConfigItem(new Key(Kind.ROUTES, id), obj, revision);
  }
}
