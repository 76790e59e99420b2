package io.archway.dataplane.config;

import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigState;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the current {@link ConfigSnapshot} and swaps it atomically as the config source delivers: a
 * full state replaces it, a batch of changes makes one new snapshot touching only the kinds that
 * changed. Readers on event loops just read {@link #current()}; they never wait.
 */
public final class ConfigHolder implements ConfigListener {

  private static final Logger log = LoggerFactory.getLogger(ConfigHolder.class);

  private volatile ConfigSnapshot current = ConfigSnapshot.empty();
  private volatile boolean loaded;
  private final List<Consumer<ConfigSnapshot>> subscribers = new CopyOnWriteArrayList<>();

  public ConfigSnapshot current() {
    return current;
  }

  /** A first full config has arrived. */
  public boolean loaded() {
    return loaded;
  }

  /** Called, on the source's thread, with every new snapshot. */
  public void subscribe(Consumer<ConfigSnapshot> subscriber) {
    subscribers.add(subscriber);
  }

  @Override
  public void onState(ConfigState state) {
    long t0 = System.nanoTime();
    publish(ConfigSnapshot.of(state.items(), state.revision()));
    if (!loaded) {
      // The start's cost, in the log: how long after the process started the first config was
      // compiled and in force (with the listeners bound before it, what /readyz waits for).
      var started = ProcessHandle.current().info().startInstant();
      log.info(
          "first config in force: {} item(s), compiled in {} ms, {} ms after the process started",
          state.items().size(),
          (System.nanoTime() - t0) / 1_000_000,
          started
              .map(i -> java.time.Duration.between(i, java.time.Instant.now()).toMillis())
              .orElse(-1L));
    }
    loaded = true;
  }

  @Override
  public void onChanges(List<ConfigChange> changes, long revision) {
    publish(current.withChanges(changes, revision));
  }

  private void publish(ConfigSnapshot next) {
    current = next;
    for (var s : subscribers) {
      s.accept(next);
    }
  }
}
