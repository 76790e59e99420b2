package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.Variables;
import io.archway.model.ModelJson;
import io.archway.model.Problem;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** proxy-cache's schema, keys, freshness rules and the store. */
class ProxyCachePluginTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private final PluginServices services = new PluginServices();

  @AfterEach
  void close() {
    services.close();
  }

  private List<String> compile(String conf) throws Exception {
    var problems = new ArrayList<Problem>();
    REGISTRY.compileOne(
        "proxy-cache",
        (ObjectNode) ModelJson.mapper().readTree(conf.replace('\'', '"')),
        new PluginScope("routes/r", services),
        "plugins.proxy-cache",
        problems);
    return problems.stream().map(Problem::toString).toList();
  }

  @Test
  void defaultsAreApisixs() throws Exception {
    var conf = PluginRegistry.bind(REGISTRY.get("proxy-cache"), ModelJson.mapper().readTree("{}"));
    assertThat(conf)
        .isEqualTo(
            new ProxyCachePlugin.Config(
                "disk",
                "disk_cache_one",
                List.of("$host", "$request_uri"),
                null,
                List.of("GET", "HEAD"),
                List.of(200, 301, 404),
                false,
                false,
                null,
                300));
    assertThat(REGISTRY.get("proxy-cache").priority()).isEqualTo(1085);
  }

  @Test
  void bothStrategiesCompile() throws Exception {
    assertThat(compile("{}")).isEmpty();
    assertThat(compile("{'cache_strategy': 'memory', 'cache_zone': 'memory_cache'}")).isEmpty();
  }

  @Test
  void zoneDirectoryNamesAreSafe() {
    assertThat(ProxyCachePlugin.directoryName("disk_cache_one")).isEqualTo("disk_cache_one");
    assertThat(ProxyCachePlugin.directoryName("../etc")).startsWith("zone-").doesNotContain("/");
    assertThat(ProxyCachePlugin.directoryName("a/b")).startsWith("zone-");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{'cache_strategy': 'memory', 'cache_key': []}       | plugins.proxy-cache.cache_key: []",
        "{'cache_strategy': 'memory', 'cache_key': ['$a b']} | plugins.proxy-cache.cache_key[0]",
        "{'cache_strategy': 'memory', 'cache_method': ['PUT']} | plugins.proxy-cache.cache_method[0]: \"PUT\"",
        "{'cache_strategy': 'memory', 'cache_http_status': [100]} | plugins.proxy-cache.cache_http_status[0]: 100",
        "{'cache_strategy': 'memory', 'cache_ttl': 0}        | plugins.proxy-cache.cache_ttl: 0",
        "{'cache_strategy': 'file'}                          | plugins.proxy-cache.cache_strategy: \"file\"",
        "{'cache_strategy': 'memory', 'cache_zone': ''}      | plugins.proxy-cache.cache_zone",
        "{'cache_strategy': 'memory', 'x': 1}                | plugins.proxy-cache.x"
      })
  void badConfigurationsNameTheField(String conf, String start) throws Exception {
    assertThat(compile(conf)).first().asString().startsWith(start);
  }

  private static Variables vars(Map<String, String> m) {
    return new Variables() {
      @Override
      public String get(String name) {
        return m.get(name);
      }

      @Override
      public InetAddress remoteAddress() {
        return null;
      }
    };
  }

  @Test
  void keysAndConditionsAreApisixsComplexValues() {
    var v = vars(Map.of("host", "a.example", "request_uri", "/x?y=1", "arg_nocache", "1"));
    assertThat(ProxyCachePlugin.expand(List.of("$host", "$request_uri"), v))
        .isEqualTo("a.example/x?y=1");
    assertThat(ProxyCachePlugin.expand(List.of("k:", "$missing", "$host"), v))
        .isEqualTo("k:a.example");
    assertThat(ProxyCachePlugin.holds(List.of("$arg_nocache"), v)).isTrue();
    assertThat(ProxyCachePlugin.holds(List.of("$arg_other"), v)).isFalse();
    assertThat(ProxyCachePlugin.holds(List.of("0"), v)).isFalse();
    assertThat(ProxyCachePlugin.holds(null, v)).isFalse();
  }

  @Test
  void theUpstreamsHeadersSayHowLongToKeep() {
    long now = System.currentTimeMillis();
    assertThat(ttl(now, "cache-control", "public, max-age=60")).isEqualTo(60);
    assertThat(ttl(now, "cache-control", "max-age=60, s-maxage=\"10\"")).isEqualTo(10);
    assertThat(ttl(now, "cache-control", "private, max-age=60")).isZero();
    assertThat(ttl(now, "cache-control", "no-store")).isZero();
    assertThat(ttl(now, "cache-control", "No-Cache")).isZero();
    assertThat(ttl(now, "expires", DateFormatter.format(new Date(now + 120_000))))
        .isBetween(119L, 120L);
    assertThat(ttl(now, "expires", "0")).isZero();
    assertThat(ttl(now, "x-other", "1")).isEqualTo(-1);
  }

  private static long ttl(long now, String name, String value) {
    return ProxyCachePlugin.upstreamTtl(new DefaultHttpHeaders().add(name, value), now);
  }

  @Test
  void theCaptureStoresWhatPassedAndGivesEachPieceOn() {
    var store = new CacheStore(1 << 20, 12);
    var alloc = ByteBufAllocator.DEFAULT;
    var small = new CacheStore.Capture(store, "k", 200, List.of(Map.entry("a", "b")), 60_000);
    var piece = Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8);
    var out = small.next(piece, alloc);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello ");
    out.release();
    out = small.next(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8), alloc);
    out.release();
    small.finish(alloc).release();
    var e = store.get("k");
    assertThat(new String(e.body(), StandardCharsets.UTF_8)).isEqualTo("hello world");
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.expires() - e.stored()).isEqualTo(60_000);

    // Over the per-entry limit: passed on, not stored.
    var big = new CacheStore.Capture(store, "big", 200, List.of(), 60_000);
    big.next(Unpooled.wrappedBuffer(new byte[8]), alloc).release();
    big.next(Unpooled.wrappedBuffer(new byte[8]), alloc).release();
    big.finish(alloc).release();
    assertThat(store.get("big")).isNull();

    // Cut short: nothing stored.
    var cut = new CacheStore.Capture(store, "cut", 200, List.of(), 60_000);
    cut.next(Unpooled.wrappedBuffer(new byte[2]), alloc).release();
    cut.abort();
    assertThat(store.get("cut")).isNull();

    assertThat(store.purge("k")).isTrue();
    assertThat(store.purge("k")).isFalse();
  }

  @Test
  void theStoreIsBoundedByBytes() {
    var store = new CacheStore(64 * 1024, 4096);
    long now = System.currentTimeMillis();
    for (int i = 0; i < 1000; i++) {
      store.put("k" + i, new CacheStore.Entry(200, List.of(), new byte[1000], now, now + 60_000));
    }
    store.cache.cleanUp();
    assertThat(store.cache.estimatedSize()).isLessThan(64);
  }
}
