package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.StreamMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Where one {@link RedisSession}'s commands go: the event loop's {@link SharedLink} to the node, or
 * a connection of its own, and the moves between them. A session that started shared moves, for
 * good, to a connection of its own when a command needs one; the move waits until the link has
 * answered everything before it, then takes a spare connection ({@link RedisLinks.Node#own}), or a
 * new one when no spare is ready. From the move on, the link holds the other sessions' commands
 * ({@link SharedLink#hold}) until Redis has run this one's on the new connection ({@link
 * MoveFence}), so no command read later on that loop overtakes it. A session whose link was lost
 * while it had nothing in flight takes a new link on its next command.
 */
final class SessionUpstream {

  private final RedisSession session;
  private final StreamMetrics metrics;
  private final RedisLinks.Node node; // for a session that started shared
  private SharedLink link; // while on the shared link
  private Channel own; // once the session has its own connection
  private String address;
  private boolean moving; // to a connection of its own: waiting for replies, then for the connect

  SessionUpstream(RedisSession session, StreamMetrics metrics, RedisLinks.Node node) {
    this.session = session;
    this.metrics = metrics;
    this.node = node;
  }

  static String address(Channel ch) {
    var a = (InetSocketAddress) ch.remoteAddress();
    return a == null ? "" : a.getHostString() + ":" + a.getPort();
  }

  /** The shared link, while the session is on it; else null. */
  SharedLink link() {
    return link;
  }

  /** The session's own connection, once it has one; else null. */
  Channel own() {
    return own;
  }

  /** The server's address, for the loggers. */
  String address() {
    return address;
  }

  /** Whether the session is between connections: its commands wait. */
  boolean moving() {
    return moving;
  }

  /** Whether the session started on a shared link (and may move off it). */
  boolean shared() {
    return node != null;
  }

  RedisLinks.Node node() {
    return node;
  }

  /** From now on the session's commands go to {@code ch}, a connection of its own. */
  void own(Channel ch) {
    own = ch;
    address = address(ch);
    metrics.upstreamOpened(false);
    ch.closeFuture().addListener(f -> metrics.upstreamClosed(false));
  }

  /** From now on the session's commands go to the shared {@code l}. */
  void share(SharedLink l) {
    link = l;
    address = l.address();
    l.attach(session);
  }

  /**
   * The command at the head of the session's queue needs a connection of its own, or a new link:
   * the session moves, and nothing is sent until it has.
   */
  void move() {
    moving = true;
    if (link == null) {
      relink();
    } else {
      moveWhenAnswered();
    }
  }

  /** Leaves the shared link for a connection of its own once the link has answered everything. */
  void moveWhenAnswered() {
    if (!session.awaited.isEmpty() || session.closing()) {
      return;
    }
    moveTo(node.own(true));
  }

  /** The session's commands go to {@code connecting} from now on (and nothing is sent before). */
  private void moveTo(ChannelFuture connecting) {
    // The link holds the commands other clients send from now until Redis has run this session's
    // first commands on the new connection, so that none overtakes them (MoveFence).
    var holding = link;
    if (holding != null) {
      holding.hold();
    }
    // Released once: by the fence on the new connection, or here when the move fails.
    var fence = new MoveFence(holding == null ? () -> {} : holding::release);
    connecting.addListener(
        (ChannelFutureListener)
            f -> {
              boolean fenced = false;
              try {
                fenced = moved(f, fence);
              } finally {
                if (!fenced) {
                  fence.letGo();
                }
              }
            });
  }

  /** Whether the session moved to {@code f}'s connection, where {@code fence} now waits. */
  private boolean moved(ChannelFuture f, MoveFence fence) {
    if (session.closing()) {
      f.channel().close();
      return false;
    }
    if (!f.isSuccess()) {
      metrics.error("upstream_connect_failed");
      session.fail("upstream unavailable (" + f.cause().getMessage() + ")");
      return false;
    }
    if (link != null) {
      link.detach(session);
      link = null;
    }
    own(f.channel());
    own.pipeline().addLast(MoveFence.NAME, fence);
    own.pipeline().addLast("replies", session.upstreamHandler());
    own.write(MoveFence.ping(), own.voidPromise());
    moving = false;
    session.commands.drain();
    own.flush();
    own.read();
    session.readClientIfRoom();
    return true;
  }

  /**
   * The shared link was lost while this session had nothing in flight: its next command waits for a
   * new link. A new link that the server does not let run commands without {@code AUTH} means a new
   * connection would not be authenticated either, so the session takes a connection of its own
   * instead, where Redis answers it as it would answer a new client.
   */
  private void relink() {
    node.link()
        .addListener(
            f -> {
              if (session.closing()) {
                return;
              }
              if (!f.isSuccess()) {
                metrics.error("upstream_connect_failed");
                session.fail("upstream unavailable (" + f.cause().getMessage() + ")");
                return;
              }
              var l = (SharedLink) f.getNow();
              if (!l.usable()) {
                moveTo(node.own(false));
                return;
              }
              share(l);
              moving = false;
              session.commands.drain();
              session.readClientIfRoom();
            });
  }

  /**
   * The shared link closed. With commands in flight on it, each gets an error and the client is
   * closed (whether they ran is unknown); without, the session goes on, on a new link.
   */
  void linkLost(SharedLink lost) {
    if (session.closing() || lost != link) {
      return;
    }
    link = null;
    if (session.awaited.isEmpty()) {
      // It may have stopped reading its client while the link could take no more writes: it reads
      // again, and its next command takes a new link.
      session.readClientIfRoom();
      return;
    }
    session.letGo();
    var errors = Unpooled.buffer();
    for (int i = session.awaited.clear(); i > 0; i--) {
      errors.writeCharSequence("-ERR upstream connection lost\r\n", StandardCharsets.US_ASCII);
    }
    metrics.error("upstream_lost");
    session.client().writeAndFlush(errors).addListener(ChannelFutureListener.CLOSE);
  }

  /** Sends what was written to a connection of its own; a shared link flushes at the turn's end. */
  void flush() {
    if (own != null) {
      own.flush();
    }
  }

  /**
   * The client half-closed and every held command is out: a session on its own connection passes
   * the half-close on.
   */
  void shutdownOutput() {
    if (own instanceof DuplexChannel d && own.isActive()) {
      own.flush();
      d.shutdownOutput();
    }
  }

  /** The session ends: it leaves the link, and its own connection is closed. */
  void letGo() {
    if (link != null) {
      link.detach(session);
    }
    if (own != null) {
      own.close();
    }
  }
}
