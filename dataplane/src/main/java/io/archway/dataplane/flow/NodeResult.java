package io.archway.dataplane.flow;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.route.Variables;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * What a flow's edge conditions see once a node finished: the node's {@code code} (its answer's
 * status, or 200 when it let the request go on) and {@code body}, then the request's variables.
 */
public final class NodeResult implements Variables {
  private final Outcome.Respond respond;
  private final Variables request;

  /**
   * @param respond the node's answer, or {@code null} when it let the request go on
   */
  public NodeResult(Outcome.Respond respond, Variables request) {
    this.respond = respond;
    this.request = request;
  }

  @Override
  public String get(String name) {
    return switch (name) {
      case "code" -> respond == null ? "200" : Integer.toString(respond.status());
      case "body" -> respond == null ? "" : new String(respond.body(), StandardCharsets.UTF_8);
      default -> request.get(name);
    };
  }

  @Override
  public InetAddress remoteAddress() {
    return request.remoteAddress();
  }
}
