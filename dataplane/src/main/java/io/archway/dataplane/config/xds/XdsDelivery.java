package io.archway.dataplane.config.xds;

import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigState;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hands the translations of an xDS source to its listener: the first one whole, each later one as
 * the changes from the one before, so that the compiler rebuilds only what changed. Used on the
 * source's thread only; {@link #loaded()} and {@link #revision()} are read from any.
 */
final class XdsDelivery {

  private final ConfigListener listener;
  private Map<Key, ConfigObject> delivered;
  private volatile boolean loaded;
  private volatile long revision;

  XdsDelivery(ConfigListener listener) {
    this.listener = listener;
  }

  /** Whether a first config was delivered. */
  boolean started() {
    return delivered != null;
  }

  boolean loaded() {
    return loaded;
  }

  long revision() {
    return revision;
  }

  /** Delivers {@code next}: whole the first time, then what changed; whether it was the first. */
  boolean deliver(Map<Key, ConfigObject> next) {
    if (delivered == null) {
      revision++;
      var items = new TreeMap<Key, ConfigItem>();
      next.forEach((k, v) -> items.put(k, new ConfigItem(k, v, revision)));
      listener.onState(new ConfigState(items, revision));
      // After the listener took it: a first config it threw on is delivered again.
      delivered = next;
      loaded = true;
      return true;
    }
    var changes = new ArrayList<ConfigChange>();
    long rev = revision + 1;
    for (var e : delivered.entrySet()) {
      if (!next.containsKey(e.getKey())) {
        changes.add(new ConfigChange.Delete(e.getKey(), rev));
      }
    }
    for (var e : next.entrySet()) {
      if (!e.getValue().equals(delivered.get(e.getKey()))) {
        changes.add(new ConfigChange.Put(new ConfigItem(e.getKey(), e.getValue(), rev)));
      }
    }
    if (changes.isEmpty()) {
      return false;
    }
    revision = rev;
    listener.onChanges(changes, rev);
    delivered = next; // after the listener took them: a change it threw on is sent again
    return false;
  }
}
