package io.archway.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.source.ConfigItem;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-kind compilers on their own, and what makes them incremental: an object whose item (and
 * what it refers to) did not change keeps what was compiled from it, a rejected one stays counted.
 */
class KindCompilersTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final PluginRegistry registry = PluginRegistry.load();
  private final PluginServices services = new PluginServices();
  private long revision;

  @AfterEach
  void close() {
    services.close();
  }

  @Test
  void anUnchangedRouteKeepsItsEntryAndARejectedOneStaysCounted() throws Exception {
    var routes = new RouteCompiler(registry, services, HttpRouteStats::new);
    var s1 =
        snapshot(
            item(Kind.ROUTES, "{\"id\": \"r1\", \"uri\": \"/a\", \"upstream_id\": \"u1\"}"),
            item(
                Kind.ROUTES,
                "{\"id\": \"r2\", \"uri\": \"/b\", \"upstream_id\": \"u1\","
                    + " \"plugin_config_id\": \"missing\"}"),
            item(Kind.ROUTES, "{\"id\": \"r3\", \"uri\": \"/c\", \"service_id\": \"s1\"}"),
            item(Kind.SERVICES, "{\"id\": \"s1\", \"upstream_id\": \"u2\"}"));
    var first = compile(routes, s1);
    assertThat(first.rejected.counts()).containsEntry(Kind.ROUTES, 1);
    assertThat(ids(first.entries)).containsExactlyInAnyOrder("r1", "r3");
    assertThat(target(first.entries, "r1").upstreamKey()).isEqualTo("upstreams/u1");
    assertThat(target(first.entries, "r3").upstreamKey()).isEqualTo("upstreams/u2");

    // Another route added: r1 and r3 keep their entries, r2 stays rejected.
    var s2 =
        s1.with(
            changed(
                s1,
                item(Kind.ROUTES, "{\"id\": \"r4\", \"uri\": \"/d\", \"upstream_id\": \"u1\"}")),
            ++revision);
    var second = compile(routes, s2);
    assertThat(second.rejected.counts()).containsEntry(Kind.ROUTES, 1);
    assertThat(entry(second.entries, "r1")).isSameAs(entry(first.entries, "r1"));
    assertThat(entry(second.entries, "r3")).isSameAs(entry(first.entries, "r3"));
    assertThat(ids(second.entries)).containsExactlyInAnyOrder("r1", "r3", "r4");

    // The service changed: its route is compiled again, the others are not.
    var s3 =
        s2.with(
            changed(s2, item(Kind.SERVICES, "{\"id\": \"s1\", \"upstream_id\": \"u3\"}")),
            ++revision);
    var third = compile(routes, s3);
    assertThat(entry(third.entries, "r1")).isSameAs(entry(first.entries, "r1"));
    assertThat(entry(third.entries, "r3")).isNotSameAs(entry(first.entries, "r3"));
    assertThat(target(third.entries, "r3").upstreamKey()).isEqualTo("upstreams/u3");
  }

  @Test
  void consumersAreCompiledAgainOnlyWhenOneChanged() throws Exception {
    var consumers = new ConsumerCompiler(registry, services);
    var s1 =
        snapshot(
            item(
                Kind.CONSUMERS,
                "{\"username\": \"alice\", \"plugins\": {\"key-auth\": {\"key\": \"k1\"}}}"),
            item(
                Kind.CONSUMERS,
                "{\"username\": \"bob\", \"plugins\": {\"key-auth\": {\"key\": \"k2\"},"
                    + " \"limit-req\": {\"rate\": -1}}}"));
    var r1 = new Rejections();
    var first = consumers.compile(s1.items(Kind.CONSUMERS), r1);
    assertThat(first.byCredential("key-auth", "k1").username()).isEqualTo("alice");
    assertThat(first.byName("bob")).isNull();
    assertThat(r1.counts()).containsEntry(Kind.CONSUMERS, 1);

    // The same consumers map: the same result, and bob still counted.
    var s2 =
        s1.with(
            changed(
                s1, item(Kind.ROUTES, "{\"id\": \"r1\", \"uri\": \"/\", \"upstream_id\": \"u1\"}")),
            2);
    var r2 = new Rejections();
    assertThat(consumers.compile(s2.items(Kind.CONSUMERS), r2)).isSameAs(first);
    assertThat(r2.counts()).containsEntry(Kind.CONSUMERS, 1);

    var s3 =
        s2.with(
            changed(
                s2,
                item(
                    Kind.CONSUMERS,
                    "{\"username\": \"bob\", \"plugins\": {\"key-auth\": {\"key\": \"k2\"}}}")),
            3);
    var r3 = new Rejections();
    var third = consumers.compile(s3.items(Kind.CONSUMERS), r3);
    assertThat(third).isNotSameAs(first);
    assertThat(third.byCredential("key-auth", "k2").username()).isEqualTo("bob");
    assertThat(r3.counts()).containsEntry(Kind.CONSUMERS, 0);
  }

  @Test
  void credentialsAndGroupsJoinTheirConsumersAndOnlyThoseAreCompiledAgain() throws Exception {
    var consumers = new ConsumerCompiler(registry, services);
    var s1 =
        snapshot(
            item(Kind.CONSUMER_GROUPS, "{\"id\": \"g\", \"plugins\": {\"request-id\": {}}}"),
            item(Kind.CONSUMERS, "{\"username\": \"alice\", \"group_id\": \"g\"}"),
            item(
                Kind.CONSUMERS,
                "{\"username\": \"bob\", \"plugins\": {\"key-auth\": {\"key\": \"bob-own\"}}}"),
            item(
                Kind.CREDENTIALS,
                "{\"id\": \"alice/credentials/k1\","
                    + " \"plugins\": {\"key-auth\": {\"key\": \"alice-1\"}}}"),
            item(
                Kind.CREDENTIALS,
                "{\"id\": \"alice/credentials/k2\","
                    + " \"plugins\": {\"key-auth\": {\"key\": \"alice-2\"}}}"),
            item(
                Kind.CREDENTIALS,
                "{\"id\": \"bob/credentials/j\", \"plugins\": {\"jwt-auth\": {\"key\": \"bob-jwt\","
                    + " \"secret\": \"s\"}}}"),
            item(
                Kind.CREDENTIALS,
                "{\"id\": \"nobody/credentials/x\","
                    + " \"plugins\": {\"key-auth\": {\"key\": \"wild\"}}}"));
    var r1 = new Rejections();
    var first = compile(consumers, s1, r1);
    assertThat(first.byCredential("key-auth", "alice-1").username()).isEqualTo("alice");
    assertThat(first.byCredential("key-auth", "alice-2").username()).isEqualTo("alice");
    assertThat(first.byCredential("key-auth", "bob-own").username()).isEqualTo("bob");
    assertThat(
            first
                .byCredential("jwt-auth", "bob-jwt")
                .credentials()
                .get("jwt-auth")
                .get("secret")
                .asText())
        .isEqualTo("s");
    assertThat(first.byCredential("key-auth", "wild")).isNull();
    assertThat(first.byName("alice").plugins().size()).isEqualTo(1); // the group's request-id
    assertThat(r1.counts())
        .containsEntry(Kind.CONSUMERS, 0)
        .containsEntry(Kind.CREDENTIALS, 1); // the credential of no consumer

    // The group changed: alice is compiled again, bob is not.
    var s2 =
        s1.with(
            changed(
                s1,
                item(
                    Kind.CONSUMER_GROUPS,
                    "{\"id\": \"g\", \"plugins\": {\"request-id\": {}, \"echo\": {\"body\": \"x\"}}}")),
            ++revision);
    var second = compile(consumers, s2, new Rejections());
    assertThat(second.byName("alice").plugins()).isNotSameAs(first.byName("alice").plugins());
    assertThat(second.byName("alice").plugins().size()).isEqualTo(2);
    assertThat(second.byName("bob").plugins()).isSameAs(first.byName("bob").plugins());

    // A credential removed: its key identifies no one; the other stays.
    var withoutK2 = new HashMap<>(s2.items(Kind.CREDENTIALS));
    withoutK2.remove("alice/credentials/k2");
    var s3 = s2.with(Map.of(Kind.CREDENTIALS, withoutK2), ++revision);
    var third = compile(consumers, s3, new Rejections());
    assertThat(third.byCredential("key-auth", "alice-2")).isNull();
    assertThat(third.byCredential("key-auth", "alice-1").username()).isEqualTo("alice");
    assertThat(third.byName("bob").plugins()).isSameAs(first.byName("bob").plugins());

    // The group gone: alice is left out, named; a key held twice identifies nobody.
    var s4 =
        s3.with(
            Map.of(
                Kind.CONSUMER_GROUPS,
                Map.of(),
                Kind.CREDENTIALS,
                Map.of(
                    "bob/credentials/j",
                    s3.items(Kind.CREDENTIALS).get("bob/credentials/j"),
                    "bob/credentials/dup",
                    item(
                        Kind.CREDENTIALS,
                        "{\"id\": \"bob/credentials/dup\","
                            + " \"plugins\": {\"key-auth\": {\"key\": \"bob-own\"}}}"))),
            ++revision);
    var r4 = new Rejections();
    var fourth = compile(consumers, s4, r4);
    assertThat(fourth.byName("alice")).isNull();
    assertThat(fourth.byCredential("key-auth", "bob-own")).isNull();
    assertThat(fourth.byCredential("jwt-auth", "bob-jwt").username()).isEqualTo("bob");
    assertThat(r4.counts())
        .containsEntry(Kind.CONSUMERS, 2) // alice (no group), bob (its own key is held twice)
        .containsEntry(Kind.CREDENTIALS, 1); // bob/credentials/dup

    // A credential with a plugin that is not an auth plugin is left out, the consumer is not.
    var s5 =
        s4.with(
            changed(
                s4,
                item(
                    Kind.CREDENTIALS,
                    "{\"id\": \"bob/credentials/dup\"," + " \"plugins\": {\"request-id\": {}}}")),
            ++revision);
    var r5 = new Rejections();
    var fifth = compile(consumers, s5, r5);
    assertThat(fifth.byCredential("key-auth", "bob-own").username()).isEqualTo("bob");
    assertThat(r5.counts()).containsEntry(Kind.CONSUMERS, 1).containsEntry(Kind.CREDENTIALS, 1);
  }

  private static io.archway.dataplane.plugin.Consumers compile(
      ConsumerCompiler c, ConfigSnapshot s, Rejections r) {
    return c.compile(
        s.items(Kind.CONSUMERS), s.items(Kind.CREDENTIALS), s.items(Kind.CONSUMER_GROUPS), r);
  }

  @Test
  void globalRulesAndFlowsAreCountedFromWhatWasKept() throws Exception {
    var rules = new GlobalRuleCompiler(registry, services);
    var flows = new FlowCompiler(registry, services);
    var s1 =
        snapshot(
            item(Kind.GLOBAL_RULES, "{\"id\": \"g1\", \"plugins\": {\"request-id\": {}}}"),
            item(
                Kind.GLOBAL_RULES,
                "{\"id\": \"g2\", \"plugins\": {\"limit-req\": {\"rate\": -1}}}"));
    var r1 = new Rejections();
    var chain = rules.compile(s1.items(Kind.GLOBAL_RULES), r1);
    assertThat(chain.has("request-id")).isTrue();
    assertThat(r1.counts()).containsEntry(Kind.GLOBAL_RULES, 1);
    var r2 = new Rejections();
    assertThat(rules.compile(s1.items(Kind.GLOBAL_RULES), r2)).isSameAs(chain);
    assertThat(r2.counts()).containsEntry(Kind.GLOBAL_RULES, 1);

    var r3 = new Rejections();
    assertThat(flows.compile(Map.of(), r3)).isEmpty();
    assertThat(r3.counts()).containsEntry(Kind.PLUGIN_FLOWS, 0);
  }

  @Test
  void streamRoutesAreAllCompiledAndARejectedOneIsCountedEachTime() throws Exception {
    var metrics = new StreamMetrics();
    try (var sinks = new SyslogSinks()) {
      var streams = new StreamRouteCompiler(metrics, sinks);
      var s =
          snapshot(
              item(
                  Kind.STREAM_ROUTES,
                  "{\"id\": \"t1\", \"server_port\": 9000, \"service_id\": \"s1\"}"),
              item(
                  Kind.STREAM_ROUTES,
                  "{\"id\": \"t2\", \"server_port\": 9001, \"upstream_id\": \"u1\","
                      + " \"protocol\": {\"name\": \"redis\", \"conf\": {\"multiplex\": \"yes\"}}}"),
              item(Kind.SERVICES, "{\"id\": \"s1\", \"upstream_id\": \"u2\"}"));
      var first = streams.compile(s.items(Kind.STREAM_ROUTES), new References(s));
      assertThat(first.all()).extracting(CompiledStream::id).containsExactly("t1");
      assertThat(first.all().get(0).upstreamKey()).isEqualTo("upstreams/u2");
      assertThat(first.all().get(0).stats()).isSameAs(metrics.route("t1"));
      assertThat(metrics.errors("route_rejected")).isEqualTo(1);
      streams.compile(s.items(Kind.STREAM_ROUTES), new References(s));
      assertThat(metrics.errors("route_rejected")).isEqualTo(2);
    }
  }

  @Test
  void referencesResolveInlineUpstreamsByItemKey() throws Exception {
    var s =
        snapshot(
            item(
                Kind.SERVICES, "{\"id\": \"s1\", \"upstream\": {\"nodes\": {\"127.0.0.1:1\": 1}}}"),
            item(Kind.PLUGIN_CONFIGS, "{\"id\": \"pc1\", \"plugins\": {\"request-id\": {}}}"));
    var refs = new References(s);
    assertThat(refs.service("s1")).isNotNull();
    assertThat(refs.service(null)).isNull();
    assertThat(refs.pluginConfig("pc1")).isNotNull();
    assertThat(refs.pluginConfig("nope")).isNull();
    assertThat(References.upstreamKey("u9", refs.service("s1"))).isEqualTo("upstreams/u9");
    assertThat(References.upstreamKey(null, null)).isNull();
    // Without runtimes yet, nothing inline resolves; what is looked up is the service's key.
    assertThat(refs.inlineUpstream("routes/r1", null, null, "s1")).isNull();
    assertThat(refs.runtimes()).isEmpty();
  }

  private record Compiled(List<RouteEntry<CompiledRoute>> entries, Rejections rejected) {}

  private static Compiled compile(RouteCompiler routes, ConfigSnapshot s) {
    var refs = new References(s);
    var rejected = new Rejections();
    return new Compiled(routes.compile(s.items(Kind.ROUTES), refs, rejected), rejected);
  }

  private static List<String> ids(List<RouteEntry<CompiledRoute>> entries) {
    return entries.stream().map(RouteEntry::id).toList();
  }

  private static RouteEntry<CompiledRoute> entry(
      List<RouteEntry<CompiledRoute>> entries, String id) {
    return entries.stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
  }

  private static CompiledRoute target(List<RouteEntry<CompiledRoute>> entries, String id) {
    return entry(entries, id).target();
  }

  private ConfigItem item(Kind kind, String json) throws Exception {
    var obj = ModelJson.read(kind, JSON.readTree(json), null, kind.dir() + "/test");
    return new ConfigItem(new Key(kind, obj.id()), obj, ++revision);
  }

  private ConfigSnapshot snapshot(ConfigItem... items) {
    var all = new HashMap<Key, ConfigItem>();
    for (var i : items) {
      all.put(i.key(), i);
    }
    return ConfigSnapshot.of(all, ++revision);
  }

  /** The kinds {@code items} change, each a new map, as {@link ConfigHolder} makes them. */
  private static Map<Kind, Map<String, ConfigItem>> changed(
      ConfigSnapshot base, ConfigItem... items) {
    var out = new EnumMap<Kind, Map<String, ConfigItem>>(Kind.class);
    for (var i : items) {
      out.computeIfAbsent(i.key().kind(), k -> new HashMap<>(base.items(k))).put(i.key().id(), i);
    }
    return out;
  }
}
