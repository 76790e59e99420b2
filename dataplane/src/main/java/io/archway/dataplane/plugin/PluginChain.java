package io.archway.dataplane.plugin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Compiled plugins in the order they run: priority, highest first. Immutable; compiled once per
 * config change. A chain merged with an identified consumer's plugins is made once per consumer and
 * kept here.
 */
public final class PluginChain {

  public static final PluginChain EMPTY = new PluginChain(new Entry[0]);

  /** One plugin of the chain. {@code fromConsumer}: it joined with the identified consumer. */
  public record Entry(String name, int priority, PluginInstance instance, boolean fromConsumer) {}

  private static final Comparator<Entry> ORDER =
      Comparator.comparingInt(Entry::priority).reversed().thenComparing(Entry::name);

  private final Entry[] entries;
  private final Map<String, Merged> withConsumer = new ConcurrentHashMap<>();

  private record Merged(Consumers.Entry consumer, PluginChain chain) {}

  private PluginChain(Entry[] entries) {
    this.entries = entries;
  }

  public static PluginChain of(List<Entry> entries) {
    if (entries.isEmpty()) {
      return EMPTY;
    }
    var sorted = entries.toArray(Entry[]::new);
    Arrays.sort(sorted, ORDER);
    return new PluginChain(sorted);
  }

  public boolean isEmpty() {
    return entries.length == 0;
  }

  public int size() {
    return entries.length;
  }

  public Entry get(int i) {
    return entries[i];
  }

  public List<Entry> entries() {
    return List.of(entries);
  }

  /** The instance of the plugin called {@code name}, or {@code null}. */
  public PluginInstance find(String name) {
    for (var e : entries) {
      if (e.name.equals(name)) {
        return e.instance;
      }
    }
    return null;
  }

  public boolean has(String name) {
    for (var e : entries) {
      if (e.name.equals(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * This chain with the consumer's plugins: a consumer's plugin replaces the route's of the same
   * name (APISIX's precedence).
   */
  public PluginChain with(Consumers.Entry consumer) {
    if (consumer.plugins().isEmpty()) {
      return this;
    }
    var m = withConsumer.get(consumer.username());
    if (m != null && m.consumer == consumer) {
      return m.chain;
    }
    var out = new ArrayList<Entry>();
    for (var e : entries) {
      if (!consumer.plugins().has(e.name)) {
        out.add(e);
      }
    }
    for (var e : consumer.plugins().entries) {
      out.add(new Entry(e.name, e.priority, e.instance, true));
    }
    var chain = of(out);
    withConsumer.put(consumer.username(), new Merged(consumer, chain));
    return chain;
  }
}
