package io.archway.model.source;

import io.archway.model.Keys.Key;

/** One change to the config, in the order the store made them. */
public sealed interface ConfigChange {

  Key key();

  /** An object was created or replaced by a valid value. */
  record Put(ConfigItem item) implements ConfigChange {
    @Override
    public Key key() {
      return item.key();
    }
  }

  /** An object was removed. */
  record Delete(Key key, long revision) implements ConfigChange {}
}
