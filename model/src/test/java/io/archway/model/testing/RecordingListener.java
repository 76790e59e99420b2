package io.archway.model.testing;

import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Applies what a config source delivers to a map, and keeps the history, for assertions. */
public final class RecordingListener implements ConfigListener {

  private final Map<Key, ConfigObject> current = new TreeMap<>();
  private final List<ConfigChange> changes = new ArrayList<>();
  private int states;
  private long revision;

  @Override
  public synchronized void onState(ConfigState state) {
    current.clear();
    state.items().forEach((k, v) -> current.put(k, v.value()));
    states++;
    revision = state.revision();
  }

  @Override
  public synchronized void onChanges(List<ConfigChange> batch, long revision) {
    for (var c : batch) {
      switch (c) {
        case ConfigChange.Put p -> current.put(p.key(), p.item().value());
        case ConfigChange.Delete d -> current.remove(d.key());
      }
    }
    changes.addAll(batch);
    this.revision = revision;
  }

  public synchronized Map<Key, ConfigObject> current() {
    return new TreeMap<>(current);
  }

  public synchronized List<ConfigChange> changes() {
    return List.copyOf(changes);
  }

  /** Full states received: 1 after the first load, one more per re-read. */
  public synchronized int states() {
    return states;
  }

  public synchronized long revision() {
    return revision;
  }
}
