package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.Consumer;
import io.archway.model.ConsumerGroup;
import io.archway.model.Credential;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import io.archway.model.ValueRefs;
import io.archway.model.source.ConfigItem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Consumers, with their credentials and their consumer group: by name, and by credential for each
 * credential plugin (a plugin that names the field consumers are found by, {@link
 * PluginRegistry#credentialField}); their other plugins, the group's merged under the consumer's
 * own (the consumer's configuration of a plugin wins, as in APISIX), compiled into a chain.
 *
 * <ul>
 *   <li>A consumer is found by its own auth plugins (APISIX 2.x style) and by each of its
 *       credentials ({@code consumers/<username>/credentials/<id>}, APISIX 3.x), each checked
 *       against the plugin's consumer schema ({@link PluginSchemas#checkConsumer}), the same the
 *       Admin API checks with. A credential with a plugin that is not an auth plugin, or whose
 *       consumer does not exist, is left out and counted under {@code credentials}.
 *   <li>A consumer whose {@code group_id} names no group, or whose plugins (its own or its group's)
 *       do not compile, is left out: neither it nor its credentials identify anyone.
 *   <li>A credential value (a key-auth key, a basic-auth username, a jwt-auth key) held by more
 *       than one consumer or credential identifies nobody: each holder is warned, naming the
 *       others, and counted. A first-come winner would let a new object take over another's key.
 * </ul>
 *
 * Incremental: nothing is done when none of the three maps is a new one; otherwise a consumer is
 * compiled again only when its item, its group's item or one of its credentials' items changed.
 */
final class ConsumerCompiler {

  private final PluginRegistry registry;
  private final PluginServices services;
  private Map<String, ConfigItem> consumerItems;
  private Map<String, ConfigItem> credentialItems;
  private Map<String, ConfigItem> groupItems;
  private Map<String, Compiled> compiled = Map.of();
  private Map<String, ConfigItem> wild = Map.of();
  private Consumers consumers = Consumers.EMPTY;
  private int rejectedConsumers;
  private int rejectedCredentials;

  ConsumerCompiler(PluginRegistry registry, PluginServices services) {
    this.registry = registry;
    this.services = services;
  }

  /** Consumers without credentials or groups. */
  Consumers compile(Map<String, ConfigItem> items, Rejections rejections) {
    return compile(items, Map.of(), Map.of(), rejections);
  }

  Consumers compile(
      Map<String, ConfigItem> consumers,
      Map<String, ConfigItem> credentials,
      Map<String, ConfigItem> groups,
      Rejections rejections) {
    if (consumers != consumerItems || credentials != credentialItems || groups != groupItems) {
      consumerItems = consumers;
      credentialItems = credentials;
      groupItems = groups;
      compileAll();
    }
    rejections.count(Kind.CONSUMERS, rejectedConsumers);
    rejections.count(Kind.CREDENTIALS, rejectedCredentials);
    rejections.count(Kind.CONSUMER_GROUPS, 0);
    return this.consumers;
  }

  /** What a consumer was compiled from: compared by identity, items are replaced when changed. */
  private record Inputs(ConfigItem consumer, ConfigItem group, List<ConfigItem> credentials) {

    boolean same(Inputs o) {
      if (o == null
          || o.consumer != consumer
          || o.group != group
          || o.credentials.size() != credentials.size()) {
        return false;
      }
      for (int i = 0; i < credentials.size(); i++) {
        if (o.credentials.get(i) != credentials.get(i)) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * One way a consumer is found: {@code plugin}'s credential {@code value}, from {@code source}.
   */
  private record Auth(
      String source, Kind kind, String plugin, String value, Map<String, ObjectNode> confs) {}

  /**
   * A consumer compiled: its chain and the ways it is found, or {@code null} chain when it is left
   * out; {@code badCredentials} of its credentials were left out.
   */
  private record Compiled(
      Inputs inputs,
      PluginChain chain,
      Map<String, ObjectNode> own,
      List<Auth> auths,
      int badCredentials) {}

  private void compileAll() {
    var byConsumer = new HashMap<String, List<ConfigItem>>();
    var wildNow = new TreeMap<String, ConfigItem>();
    for (var id : new TreeSet<>(credentialItems.keySet())) {
      var item = credentialItems.get(id);
      var username = ((Credential) item.value()).username();
      if (consumerItems.containsKey(username)) {
        byConsumer.computeIfAbsent(username, k -> new ArrayList<>()).add(item);
      } else {
        wildNow.put(id, item);
        if (wild.get(id) != item) {
          Rejections.warn(
              Kind.CREDENTIALS,
              id,
              "not used",
              "consumer \""
                  + username
                  + "\" does not exist (expected: the consumer it belongs to)");
        }
      }
    }
    wild = wildNow;
    var next = new HashMap<String, Compiled>();
    int badConsumers = 0;
    int badCredentials = wildNow.size();
    for (var name : new TreeSet<>(consumerItems.keySet())) {
      var item = consumerItems.get(name);
      var c = (Consumer) item.value();
      var group = c.groupId() == null ? null : groupItems.get(c.groupId());
      var inputs = new Inputs(item, group, byConsumer.getOrDefault(name, List.of()));
      var last = compiled.get(name);
      var one = last != null && inputs.same(last.inputs()) ? last : compileOne(name, c, inputs);
      next.put(name, one);
      if (one.chain() == null) {
        badConsumers++;
        badCredentials += inputs.credentials().size();
      } else {
        badCredentials += one.badCredentials();
      }
    }
    compiled = next;
    badConsumers += index(next, badCredentials);
    rejectedConsumers = badConsumers;
  }

  /** Builds the lookups; returns the consumers whose own credential is ambiguous. */
  private int index(Map<String, Compiled> all, int badCredentials) {
    var byName = new HashMap<String, Consumers.Entry>();
    var holders = new TreeMap<String, Map<String, List<Auth>>>();
    var entries = new HashMap<Auth, Consumers.Entry>();
    for (var name : new TreeSet<>(all.keySet())) {
      var one = all.get(name);
      if (one.chain() == null) {
        continue;
      }
      var consumer = (Consumer) one.inputs().consumer().value();
      var groupId = consumer.groupId();
      var labels = consumer.labels() == null ? Map.<String, String>of() : consumer.labels();
      byName.put(
          name, new Consumers.Entry(name, Map.copyOf(one.own()), one.chain(), groupId, labels));
      for (var a : one.auths()) {
        holders
            .computeIfAbsent(a.plugin(), k -> new TreeMap<>())
            .computeIfAbsent(a.value(), k -> new ArrayList<>())
            .add(a);
        entries.put(
            a, new Consumers.Entry(name, Map.copyOf(a.confs()), one.chain(), groupId, labels));
      }
    }
    var byCredential = new HashMap<String, Map<String, Consumers.Entry>>();
    var ambiguous = new TreeSet<String>();
    holders.forEach(
        (plugin, byValue) ->
            byValue.forEach(
                (value, list) -> {
                  if (list.size() == 1) {
                    byCredential
                        .computeIfAbsent(plugin, k -> new HashMap<>())
                        .put(value, entries.get(list.get(0)));
                    return;
                  }
                  for (var a : list) {
                    var others =
                        list.stream().filter(o -> o != a).map(Auth::source).sorted().toList();
                    Rejections.log.warn(
                        "{}: plugins.{}: not used: the same {} as {} (expected: unique among"
                            + " consumers and credentials)",
                        a.source(),
                        plugin,
                        registry.credentialField(plugin),
                        String.join(", ", others));
                    ambiguous.add(a.source());
                  }
                }));
    int consumersOut = 0;
    int credentialsOut = badCredentials;
    for (var source : ambiguous) {
      if (Keys.parseItem(source).map(k -> k.kind() == Kind.CREDENTIALS).orElse(false)) {
        credentialsOut++;
      } else {
        consumersOut++;
      }
    }
    rejectedCredentials = credentialsOut;
    consumers = new Consumers(Map.copyOf(byName), byCredential);
    return consumersOut;
  }

  private Compiled compileOne(String name, Consumer c, Inputs inputs) {
    var problems = new ArrayList<Problem>();
    var merged = new LinkedHashMap<String, ObjectNode>();
    var fromGroup = new TreeSet<String>();
    if (c.groupId() != null) {
      if (inputs.group() == null) {
        problems.add(
            new Problem(
                "group_id",
                "consumer group \""
                    + c.groupId()
                    + "\" does not exist (expected: the id of a consumer_groups object)"));
      } else {
        var g = (ConsumerGroup) inputs.group().value();
        if (g.plugins() != null) {
          g.plugins()
              .forEach(
                  (plugin, conf) -> {
                    // A group shares plugins; who a consumer is stays the consumer's own.
                    if (registry.credentialField(plugin) == null) {
                      merged.put(plugin, conf);
                      fromGroup.add(plugin);
                    }
                  });
        }
      }
    }
    var own = new HashMap<String, ObjectNode>();
    if (c.plugins() != null) {
      c.plugins()
          .forEach(
              (plugin, conf) -> {
                if (registry.credentialField(plugin) != null) {
                  own.put(
                      plugin,
                      ValueRefs.resolve(conf, "plugins." + plugin, registry.secrets(), problems));
                } else {
                  merged.put(plugin, conf);
                  fromGroup.remove(plugin);
                }
              });
    }
    var chainProblems = new ArrayList<Problem>();
    var chain =
        registry.compile(
            merged,
            new PluginScope(Keys.item(Kind.CONSUMERS, name), services),
            "plugins",
            chainProblems);
    for (var p : chainProblems) {
      var plugin = p.path().startsWith("plugins.") ? p.path().substring(8).split("\\.")[0] : "";
      problems.add(
          fromGroup.contains(plugin)
              ? new Problem("consumer group \"" + c.groupId() + "\": " + p.path(), p.message())
              : p);
    }
    var source = Keys.item(Kind.CONSUMERS, name);
    var auths = new ArrayList<Auth>();
    for (var e : new TreeMap<>(own).entrySet()) {
      problems.addAll(
          PluginSchemas.checkConsumer(e.getKey(), e.getValue(), "plugins." + e.getKey()));
      auths.add(auth(source, Kind.CONSUMERS, e.getKey(), own));
    }
    if (!problems.isEmpty()) {
      Rejections.warn(Kind.CONSUMERS, name, "not used", Messages.join(problems));
      return new Compiled(inputs, null, Map.of(), List.of(), 0);
    }
    int bad = 0;
    for (var item : inputs.credentials()) {
      var cred = (Credential) item.value();
      var credProblems = new ArrayList<Problem>();
      var confs = new HashMap<String, ObjectNode>();
      if (cred.plugins() != null) {
        cred.plugins()
            .forEach(
                (plugin, conf) -> {
                  var at = "plugins." + plugin;
                  if (registry.credentialField(plugin) == null) {
                    credProblems.add(
                        new Problem(
                            at,
                            registry.get(plugin) == null
                                ? PluginSchemas.notRun(plugin).orElse(plugin)
                                : "not an authentication plugin (expected: only key-auth,"
                                    + " basic-auth, jwt-auth... in a credential)"));
                  } else {
                    var resolved = ValueRefs.resolve(conf, at, registry.secrets(), credProblems);
                    credProblems.addAll(PluginSchemas.checkConsumer(plugin, resolved, at));
                    confs.put(plugin, resolved);
                  }
                });
      }
      if (!credProblems.isEmpty()) {
        Rejections.warn(Kind.CREDENTIALS, cred.id(), "not used", Messages.join(credProblems));
        bad++;
        continue;
      }
      var credSource = Keys.item(Kind.CREDENTIALS, cred.id());
      for (var plugin : new TreeSet<>(confs.keySet())) {
        auths.add(auth(credSource, Kind.CREDENTIALS, plugin, confs));
      }
    }
    return new Compiled(inputs, chain, own, List.copyOf(auths), bad);
  }

  private Auth auth(String source, Kind kind, String plugin, Map<String, ObjectNode> confs) {
    var value = confs.get(plugin).path(registry.credentialField(plugin)).asText("");
    return new Auth(source, kind, plugin, value, confs);
  }
}
