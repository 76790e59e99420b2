package io.archway.dataplane.http;

import io.netty.channel.Channel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The WebSocket tunnels open through the gateway, for graceful shutdown: {@link #drain()} ends each
 * with a Close frame ({@code 1001 going away}) to the client and one to the node, and closes both
 * connections once both sides have answered with theirs; {@link #open()} counts those not closed
 * yet (the server waits for them within its drain timeout, then closes what is left).
 */
public final class WebSocketTunnels {

  private final Set<Tunnel> open = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;

  /** Tunnels not closed yet. */
  public int open() {
    return open.size();
  }

  /** Ends every tunnel, and any opened from now on, with a Close frame to each side. */
  public void drain() {
    draining = true;
    for (var t : open) {
      t.goingAway();
    }
  }

  /**
   * Puts the frame trackers of a new tunnel in front of the relays ({@code before}, the name of the
   * relay in both pipelines); returns the one of the node's side, which must see what the node sent
   * before it was in place.
   */
  WebSocketFrames add(Channel client, Channel node, String before) {
    var t = new Tunnel(client, node);
    client.pipeline().addBefore(before, "ws-frames", t.fromClient);
    node.pipeline().addBefore(before, "ws-frames", t.fromNode);
    open.add(t);
    client.closeFuture().addListener(f -> t.closed());
    node.closeFuture().addListener(f -> t.closed());
    if (draining) {
      t.goingAway();
    }
    return t.fromNode;
  }

  private final class Tunnel {
    final Channel client;
    final Channel node;
    final WebSocketFrames fromClient;
    final WebSocketFrames fromNode;

    Tunnel(Channel client, Channel node) {
      this.client = client;
      this.node = node;
      fromClient = new WebSocketFrames(node, true, this::sideClosed);
      fromNode = new WebSocketFrames(client, false, this::sideClosed);
    }

    void goingAway() {
      client
          .eventLoop()
          .execute(
              () -> {
                fromNode.goingAway();
                fromClient.goingAway();
                sideClosed();
              });
    }

    /** Once both sides sent their Close while draining, both connections close (server first). */
    void sideClosed() {
      if (draining && fromClient.sideClosed() && fromNode.sideClosed()) {
        client.close();
        node.close();
      }
    }

    void closed() {
      if (!client.isOpen() || !node.isOpen()) {
        client.close();
        node.close();
      }
      if (!client.isOpen() && !node.isOpen()) {
        open.remove(this);
      }
    }
  }
}
