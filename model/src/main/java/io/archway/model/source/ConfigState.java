package io.archway.model.source;

import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** The whole valid config at one revision. Immutable. */
public record ConfigState(Map<Key, ConfigItem> items, long revision) {

  public ConfigState {
    items = Collections.unmodifiableMap(new TreeMap<>(items));
  }

  public static ConfigState empty() {
    return new ConfigState(Map.of(), 0);
  }

  /** The objects of one kind, by id. */
  public <T extends ConfigObject> Map<String, T> of(Kind kind, Class<T> type) {
    var out = new TreeMap<String, T>();
    items.forEach(
        (k, v) -> {
          if (k.kind() == kind) {
            out.put(k.id(), type.cast(v.value()));
          }
        });
    return out;
  }
}
