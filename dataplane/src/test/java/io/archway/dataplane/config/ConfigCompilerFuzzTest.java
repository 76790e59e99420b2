package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Keys.Key;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import io.archway.model.source.ConfigItem;
import io.archway.model.testing.Fixtures;
import io.archway.model.testing.JsonMutator;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes {@link ConfigCompiler} with random-but-plausible configs: every valid fixture, mutated in
 * its structure, read by the model (what it rejects is left out, as the config sources do), and
 * compiled one snapshot after another, so that the caches of unchanged objects are exercised too.
 * No exception escapes a compile: one bad object is reported and skipped, never takes the rest
 * down. Nothing in the configs reaches past the loopback: hosts are rewritten to 127.0.0.1, active
 * health checks and Kubernetes discovery are removed, and plugins that open connections when
 * compiled are left out. See docs/fuzzing.md.
 */
class ConfigCompilerFuzzTest {

  static {
    // Each rejected object is a warning: thousands per run, which would bury the build's log.
    for (var logger : List.of("config.ConfigCompiler", "tls.CertificateCompiler")) {
      System.setProperty("org.slf4j.simpleLogger.log.io.archway.dataplane." + logger, "error");
    }
  }

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final Set<String> NETWORKED =
      Set.of("kafka-logger", "kafka-proxy", "http-logger", "limit-count");
  private static final List<Fixtures.Fixture> FIXTURES = Fixtures.valid();

  private static final EventLoopGroup LOOPS = Transport.selected().newLoopGroup(1, "fuzz-io");
  private static final Upstreams UPSTREAMS = new Upstreams(Transport.selected(), LOOPS, 1);
  private static final SyslogSinks SINKS = new SyslogSinks();
  private static final ConfigCompiler COMPILER =
      new ConfigCompiler(
          UPSTREAMS,
          HttpRouteStats::new,
          new StreamMetrics(),
          SINKS,
          null,
          new CertificateCompiler(TlsSettings.DEFAULTS, new TlsMetrics()));

  @AfterContainer
  static void stop() {
    COMPILER.pluginServices().close();
    SINKS.close();
    UPSTREAMS.close();
    LOOPS.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Property
  void mutatedConfigs(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    var items = new HashMap<Key, ConfigItem>();
    for (var f : FIXTURES) {
      for (int copy = r.nextInt(1, 3); copy > 0; copy--) {
        JsonNode json = f.json();
        if (r.nextInt(3) > 0) {
          json = JsonMutator.mutate(json, r, r.nextInt(1, 4));
        }
        if (json instanceof ObjectNode o && copy > 1 && o.has(f.kind().idField())) {
          o.put(f.kind().idField(), o.get(f.kind().idField()).asText() + "-" + copy);
        }
        json = loopbackOnly(json);
        try {
          var obj = ModelJson.read(f.kind(), json, null, f.kind().dir() + "/fuzz");
          var id = obj.id() != null ? obj.id() : f.name();
          var key = new Key(f.kind(), id);
          items.put(key, new ConfigItem(key, obj, items.size() + 1));
        } catch (ValidationException e) {
          // left out, as the config sources leave it out
        }
      }
    }
    Statistics.label("objects").collect(items.size() >= FIXTURES.size() / 2 ? "many" : "few");
    // A fuzz test whose configs never get past validation tests nothing.
    Statistics.label("objects").coverage(c -> c.check("many").percentage(p -> p >= 50));
    COMPILER.accept(ConfigSnapshot.of(items, seed));
    assertThat(COMPILER.current()).isNotNull();
  }

  /** {@code json} with every host on the loopback and nothing that connects when compiled. */
  static JsonNode loopbackOnly(JsonNode json) {
    if (json instanceof ObjectNode o) {
      var names = new ArrayList<String>();
      o.fieldNames().forEachRemaining(names::add);
      for (var name : names) {
        var v = o.get(name);
        switch (name) {
          case "host" -> {
            if (v.isTextual()) {
              o.put(name, "127.0.0.1");
            }
          }
          case "discovery_type", "service_name", "active", "brokers" -> o.remove(name);
          case "nodes" -> {
            if (v instanceof ObjectNode nodes) {
              var fixed = F.objectNode();
              int port = 1;
              for (var it = nodes.properties().iterator(); it.hasNext(); ) {
                fixed.set("127.0.0.1:" + port++, it.next().getValue());
              }
              o.set(name, fixed);
            } else {
              loopbackOnly(v);
            }
          }
          case "plugins" -> {
            if (v instanceof ObjectNode plugins) {
              NETWORKED.forEach(plugins::remove);
            }
            loopbackOnly(v);
          }
          case "name" -> {
            if (v.isTextual() && NETWORKED.contains(v.textValue())) {
              o.put(name, "echo");
            }
          }
          default -> loopbackOnly(v);
        }
      }
    } else if (json != null && json.isArray()) {
      json.forEach(ConfigCompilerFuzzTest::loopbackOnly);
    }
    return json;
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
