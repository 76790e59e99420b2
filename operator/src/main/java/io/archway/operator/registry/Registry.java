package io.archway.operator.registry;

import io.archway.model.UpstreamNode;
import java.util.List;

/**
 * A service registry the operator reads upstream nodes from: ZooKeeper, DNS. It reports on threads
 * of its own; {@link Registries} damps, keeps and publishes what it reports.
 */
public interface Registry extends AutoCloseable {

  /** The {@code discovery_type} it serves: {@code zookeeper}, {@code dns}. */
  String type();

  /**
   * Starts following {@code serviceName}: every answer ({@link Listener#nodes}, the whole node set)
   * and every failure is reported to {@code listener} until the returned watch is closed.
   */
  Watch watch(String serviceName, Listener listener);

  /** What a registry says about one service. */
  interface Listener {
    /** The service's nodes now (empty: it has none). */
    void nodes(List<UpstreamNode> nodes);

    /** The registry cannot answer; {@code error} says why, naming the registry. */
    void failed(String error);
  }

  /** One followed service. */
  interface Watch extends AutoCloseable {
    @Override
    void close();
  }

  @Override
  void close();
}
