package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.CompiledStream;
import io.archway.dataplane.config.RedisProtocol;
import io.archway.dataplane.config.StreamMetrics;
import io.archway.dataplane.support.Relay;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One Redis client connection. Commands arrive decoded by {@link RespCommandDecoder} and leave as
 * the bytes the client sent, in order; replies come back in the same order and go to the client
 * unchanged, matched to their commands for the latency histogram and the loggers.
 *
 * <p>A session starts on its event loop's {@link SharedLink} to the node, when the route
 * multiplexes (the default): many clients' commands then travel on one server connection, as
 * twemproxy and Envoy do, which saves the server and the proxy a read and a write per command. The
 * first command that needs connection state of its own ({@link CommandNames#NEEDS_OWN_CONNECTION}:
 * {@code MULTI}, {@code WATCH}, blocking pops, {@code SUBSCRIBE}, {@code MONITOR}, {@code AUTH},
 * {@code SELECT}, {@code HELLO}, {@code CLIENT}, ...) waits until the replies to the commands
 * before it are in, then the session moves, for good, to a connection of its own, so transactions,
 * blocking commands, pub/sub, authentication and databases keep their meaning. Without
 * multiplexing, the session has its own connection from the start.
 *
 * <p>A shared session is admitted first ({@link RedisLinks.Node#admit}): only a client that a new
 * server connection would find authenticated shares a link; any other has a connection of its own
 * from the start, where Redis answers it exactly as it would answer the client directly ({@code
 * -NOAUTH} included). The move to a connection of its own takes a spare connection made earlier, so
 * it never waits on a connect that another client's later command could overtake. When the shared
 * link is lost, the sessions with commands in flight on it get an error per command and are closed;
 * the others carry on, on a new link.
 *
 * <p>Each client's replies waiting to be written are bounded ({@link RedisProtocol.OutputLimits}):
 * over the limit the client is disconnected, and the link is never held up for it. {@code QUIT} on
 * a shared session is answered here; commands that make Redis close the connection ({@code POST},
 * {@code Host:}) close this client only and are never forwarded; denied commands ({@code
 * deny_commands}) are forwarded as an unknown command, so Redis answers them with an error in their
 * place (and fails a transaction they are part of, as it fails one with an unknown command).
 *
 * <p>A command that a fault rule delays holds back the commands behind it on this connection only;
 * the wait is a timer on the event loop, never a sleep. After {@code SUBSCRIBE}, {@code
 * PSUBSCRIBE}, {@code SSUBSCRIBE} or {@code MONITOR} a RESP2 connection receives messages that
 * answer no command, so matching stops there: later commands are still forwarded (and delayed by
 * faults), but not timed or logged.
 *
 * <p>This class is the client's handler and holds the session together; the work is split by path:
 * {@link SessionCommands} (commands on their way out, fault delays, QUIT and denied commands),
 * {@link SessionUpstream} (the shared link or the session's own connection, and the moves between
 * them), {@link SessionReplies} (replies on their way back, the output limits), {@link
 * AwaitedReplies} (the commands owed a reply, timed) and {@link CommandLog} (the loggers). All of
 * them run on the session's event loop.
 */
public final class RedisSession extends ChannelInboundHandlerAdapter {

  /** Unanswered commands a session may have on a shared link before it stops reading its client. */
  static final int MAX_IN_FLIGHT = 1024;

  private final Channel client;
  private final StreamMetrics metrics;
  private final String clientIp;
  final SessionUpstream upstream;
  final SessionCommands commands;
  final AwaitedReplies awaited;
  private final SessionReplies replies;
  private ChannelHandlerContext ctx;
  private boolean closing;
  private boolean clientDone; // the client half-closed: pass it on once the held commands are out
  private boolean quitting; // QUIT on the shared link: answered once the commands before it are
  private String protocolError; // sent, and the client closed, once the commands before it are
  boolean flushQueued; // for the shared link: replies written, client not yet flushed
  private RespCommandDecoder decoder;

  /** A session on its own connection {@code upstream}. */
  public RedisSession(
      CompiledStream route, Channel upstream, Channel client, StreamMetrics metrics) {
    this(route, client, metrics, null);
    this.upstream.own(upstream);
  }

  /**
   * A session on the shared {@code link}, admitted as authenticated; {@code node} gives it its own
   * connection (to the same node) when a command needs one, and a new link if this one is lost.
   */
  public RedisSession(
      CompiledStream route,
      SharedLink link,
      Channel client,
      StreamMetrics metrics,
      RedisLinks.Node node) {
    this(route, client, metrics, node);
    this.upstream.share(link);
  }

  private RedisSession(
      CompiledStream route, Channel client, StreamMetrics metrics, RedisLinks.Node node) {
    this.client = client;
    this.metrics = metrics;
    var remote = (InetSocketAddress) client.remoteAddress();
    var clientAddress = remote == null ? null : remote.getAddress();
    this.clientIp = clientAddress == null ? "" : clientAddress.getHostAddress();
    this.upstream = new SessionUpstream(this, metrics, node);
    this.commands = new SessionCommands(this, route, metrics);
    this.awaited =
        new AwaitedReplies(route, new CommandLog(route, clientAddress, clientIp, upstream));
    this.replies = new SessionReplies(this, route, metrics, client);
  }

  /** The client's command decoder, which decodes only while this session has room. */
  public ChannelHandler decoder(long maxBulk) {
    decoder = new RespCommandDecoder(maxBulk);
    decoder.gate(this::room);
    return decoder;
  }

  Channel client() {
    return client;
  }

  String clientIp() {
    return clientIp;
  }

  ChannelHandlerContext ctx() {
    return ctx;
  }

  boolean closing() {
    return closing;
  }

  boolean protocolError() {
    return protocolError != null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  // Client side.

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof RedisCommand cmd) || closing || quitting || protocolError != null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    commands.add(cmd);
  }

  /** Every held command is out, and the session is not moving. */
  void drained() {
    if (protocolError != null) {
      settle();
    } else if (clientDone && !holding()) {
      if (upstream.own() == null) {
        settle();
      } else {
        upstream.shutdownOutput();
      }
    }
  }

  /** QUIT on the shared link: answered here once the replies before it are out. */
  void quit() {
    quitting = true;
    settle();
  }

  /**
   * Once every command sent is answered: a session waiting to move moves, and a client that quit,
   * half-closed or sent bad bytes is told what it is owed and closed.
   */
  void settle() {
    if (closing || !awaited.settled()) {
      return;
    }
    if (upstream.moving() && upstream.link() != null && !commands.isEmpty()) {
      upstream.moveWhenAnswered();
      return;
    }
    if (!commands.isEmpty() && !quitting) {
      return;
    }
    if (quitting) {
      closeAfter("+OK\r\n");
    } else if (protocolError != null) {
      closeAfter("-ERR Protocol error: " + protocolError + "\r\n");
    } else if (clientDone && upstream.own() == null && !holding()) {
      closeAfter("");
    }
  }

  private void closeAfter(String last) {
    letGo();
    var reply =
        last.isEmpty()
            ? Unpooled.EMPTY_BUFFER
            : Unpooled.copiedBuffer(last, StandardCharsets.ISO_8859_1);
    client.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      clientDone = true;
      commands.drain();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    commands.endRun();
    upstream.flush();
    readClientIfRoom();
  }

  /**
   * Whether the session can take more commands now: room to hold them, not moving, and on the
   * shared link fewer than {@link #MAX_IN_FLIGHT} unanswered, replies going out and the link taking
   * writes; on its own connection, that connection taking writes. A session that drops what comes
   * (closing, quitting, after bad bytes) always has room.
   */
  private boolean room() {
    if (closing || quitting || protocolError != null) {
      return true;
    }
    if (!commands.room() || upstream.moving()) {
      return false;
    }
    var own = upstream.own();
    if (own != null) {
      return own.isWritable();
    }
    // The shared link is never paused for one client: a client that does not read its replies
    // stops being read instead.
    var link = upstream.link();
    return awaited.size() < MAX_IN_FLIGHT
        && client.isWritable()
        && (link == null || link.isWritable());
  }

  /** Commands the client sent wait in the decoder, as bytes, for room. */
  private boolean holding() {
    return decoder != null && decoder.holding();
  }

  /**
   * With room: first the commands held in the decoder, then a read of the client. The client is
   * read only when asked; what a transport delivers unasked waits in the decoder ({@link
   * RespCommandDecoder#holding}).
   */
  void readClientIfRoom() {
    if (closing || quitting || protocolError != null) {
      return;
    }
    if (!room()) {
      var link = upstream.link();
      if (upstream.own() == null && link != null && !link.isWritable()) {
        link.whenWritable(this);
      }
      return;
    }
    if (holding()) {
      decoder.decodeHeld();
      commands.endRun();
      upstream.flush();
      if (!holding()) {
        readClientIfRoom(); // the held commands may have taken the room
      }
      return;
    }
    if (!Relay.inputShutdown(client)) {
      client.read();
    }
  }

  /** The shared link can take writes again. */
  void resume() {
    readClientIfRoom();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (client.isWritable()) {
      replies.clientWritable();
      var own = upstream.own();
      if (own != null && !Relay.inputShutdown(own)) {
        own.read();
      } else if (own == null) {
        readClientIfRoom();
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    letGo();
  }

  /** The session ends: held commands are released, and its upstream side let go. */
  void letGo() {
    closing = true;
    commands.releaseHeld();
    upstream.letGo();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    commands.releaseHeld();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    var resp =
        cause instanceof DecoderException && cause.getCause() instanceof RespException r
            ? r
            : cause instanceof RespException r2 ? r2 : null;
    if (resp != null && !closing) {
      // As Redis does: the commands before the bad bytes are answered, then the error says what
      // was wrong, then the connection closes. The decoder has passed those commands on already.
      if (protocolError == null && !quitting) {
        metrics.error("bad_resp");
        protocolError = resp.getMessage();
        commands.drain();
        upstream.flush();
      }
      return;
    }
    ctx.close();
  }

  /** Closes the client after one error line, and lets go of its upstream side. */
  void fail(String message) {
    letGo();
    client
        .writeAndFlush(Unpooled.copiedBuffer("-ERR " + message + "\r\n", StandardCharsets.UTF_8))
        .addListener(ChannelFutureListener.CLOSE);
  }

  // Shared link side: called by the link, on this session's event loop.

  /** Replies from the shared link: {@code slice} holds them, of which {@code done} ended. */
  void replies(ByteBuf slice, int done) {
    replies.fromLink(slice, done);
  }

  void flushClient() {
    client.flush();
  }

  /** The shared link closed (see {@link SessionUpstream#linkLost}). */
  void linkLost(SharedLink lost) {
    upstream.linkLost(lost);
  }

  /** The handler for the session's own upstream connection's pipeline. */
  public ChannelInboundHandlerAdapter upstreamHandler() {
    return replies;
  }
}
