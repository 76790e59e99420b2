package io.archway.model.source;

import java.util.List;

/**
 * Receives the config from a {@link ConfigSource}. Calls come one at a time from the source's own
 * thread, never from an event loop, and never overlap.
 */
public interface ConfigListener {

  /**
   * The whole valid config: on the first load and after every full re-read (etcd compaction or
   * restore, a reloaded file). Replaces what came before.
   */
  void onState(ConfigState state);

  /** Changes since the last call, in the store's order; {@code revision} is the newest. */
  void onChanges(List<ConfigChange> changes, long revision);
}
