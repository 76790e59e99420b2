package io.archway.dataplane.server;

import io.archway.dataplane.config.ConfigHolder;
import io.archway.dataplane.config.ConfigSnapshot;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traffic listeners accept connections (UDP ports read datagrams) only once the first config is in
 * force. They are bound before it (so a port in use stops the start at once), but until the config
 * source has delivered and the compiler has compiled it, a connection would meet an empty config: a
 * stream client would be closed (reset, if it had already sent its command) and an HTTP client told
 * 404 for a route that exists. Held listeners do not accept: clients wait in the kernel's backlog,
 * and are served as soon as the config is in force, as Envoy's listeners wait for their first
 * configuration. The status and admin ports are not held: {@code /readyz} says why nothing is
 * served yet.
 *
 * <p>Subscribed to the {@link ConfigHolder} after the compiler, so when it opens, what the
 * listeners serve is the compiled first config.
 */
final class FirstConfigGate implements Consumer<ConfigSnapshot> {

  private static final Logger log = LoggerFactory.getLogger(FirstConfigGate.class);

  private final List<Channel> held = new ArrayList<>();
  private final long since = System.nanoTime();
  private boolean open;

  FirstConfigGate(ConfigHolder config) {
    open = config.loaded();
  }

  /**
   * Holds {@code listener} (a TCP listener, or a UDP port) until the first config is in force;
   * called when it is registered, before it is bound, so that it never accepts or reads before.
   */
  void hold(Channel listener) {
    synchronized (this) {
      if (open) {
        return;
      }
      listener.config().setAutoRead(false);
      held.add(listener);
    }
  }

  @Override
  public void accept(ConfigSnapshot first) {
    List<Channel> release;
    synchronized (this) {
      if (open) {
        return;
      }
      open = true;
      release = List.copyOf(held);
      held.clear();
    }
    // Thread-safe: the accept loop is asked to read (accept) from now on.
    release.forEach(c -> c.config().setAutoRead(true));
    log.info(
        "traffic listeners accepting: {} held {} ms for the first config",
        release.size(),
        (System.nanoTime() - since) / 1_000_000);
  }
}
