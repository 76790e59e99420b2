package io.archway.operator.translate;

import io.archway.model.UpstreamNode;
import java.util.List;

/**
 * What a registry the operator follows has for one service: the nodes to write (the last ones known
 * and stable), whether it has answered at all, and its error while it cannot answer.
 *
 * @param known whether the registry has ever answered for this service; until it has, {@code nodes}
 *     is empty and means nothing
 * @param error why the registry cannot answer now, naming it; {@code null} when it can
 */
public record RegistryLookup(
    String type, String serviceName, List<UpstreamNode> nodes, boolean known, String error) {

  public RegistryLookup {
    nodes = List.copyOf(nodes);
  }
}
