package io.archway.dataplane.stream.redis;

import io.archway.dataplane.config.StreamMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One upstream connection to a Redis node, shared by the sessions of one event loop whose commands
 * need no connection state of their own (see {@link RedisSession}). Commands from all of them go
 * out in the order they are sent, written in one batch per event-loop turn; replies come back in
 * the same order, so each is cut at its boundary ({@link RespReplyScanner#next}) and handed, as a
 * slice of what was read, to the session whose command it answers. Consecutive replies for the same
 * session travel as one slice.
 *
 * <p>Everything here runs on the link's event loop, which is also its sessions' loop. The link
 * reads whatever the server sends: a session whose client reads slowly stops sending commands
 * instead (it has at most {@link RedisSession#MAX_IN_FLIGHT} unanswered, and a bounded output
 * buffer), so no session can hold up the others. When the server closes the link, every session on
 * it is told: those with commands in flight close their clients after an error reply for each, the
 * others go on, on a new link. A link no session uses is closed after {@link #LINGER_SECONDS}
 * seconds.
 *
 * <p>The link names itself first ({@code CLIENT SETNAME archway-shared-<n>}, pipelined): it shows
 * up so in {@code CLIENT LIST}, and the reply says whether the server lets it run commands without
 * {@code AUTH} ({@link #usable}). Until that reply the link is not handed to any session.
 */
public final class SharedLink extends ChannelInboundHandlerAdapter {

  static final int LINGER_SECONDS = 30;

  private final Channel channel;
  private final StreamMetrics metrics;
  private final String address;
  // One entry per command sent and not yet answered: the session it came from.
  private final ArrayDeque<RedisSession> waiting = new ArrayDeque<>();
  private final RespReplyScanner scanner = new RespReplyScanner();
  private final Set<RedisSession> sessions = new LinkedHashSet<>();
  private final ArrayList<RedisSession> answered = new ArrayList<>();
  private final ArrayList<RedisSession> blocked = new ArrayList<>();
  private final Runnable flushTask = this::flushNow;
  private boolean flushScheduled;
  private int holds;
  private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
  private long idleSince;
  private final Promise<SharedLink> ready;
  private final Runnable onIdleClose;
  private boolean named;
  private int nameReplyFirst = -1;
  private boolean usable;

  SharedLink(
      Channel channel, StreamMetrics metrics, Promise<SharedLink> ready, Runnable onIdleClose) {
    this.channel = channel;
    this.metrics = metrics;
    this.address = SessionUpstream.address(channel);
    this.ready = ready;
    this.onIdleClose = onIdleClose;
  }

  /** Sends {@code CLIENT SETNAME name}; {@code ready} completes with its reply. */
  void name(String name) {
    var cmd = "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$" + name.length() + "\r\n" + name + "\r\n";
    channel.writeAndFlush(Unpooled.copiedBuffer(cmd, StandardCharsets.US_ASCII));
  }

  /**
   * Whether the server ran the link's first command: false when it asked for {@code AUTH}, and the
   * link is closed. Sessions must not use a link that is not usable.
   */
  public boolean usable() {
    return usable;
  }

  Channel channel() {
    return channel;
  }

  String address() {
    return address;
  }

  public boolean isActive() {
    return channel.isActive();
  }

  boolean isWritable() {
    return channel.isWritable();
  }

  void attach(RedisSession s) {
    sessions.add(s);
  }

  /** {@code s} sends nothing more here (its replies still due are dropped when they come). */
  void detach(RedisSession s) {
    sessions.remove(s);
    blocked.remove(s);
    if (sessions.isEmpty()) {
      long since = System.nanoTime();
      idleSince = since;
      channel
          .eventLoop()
          .schedule(
              () -> {
                if (sessions.isEmpty() && idleSince == since && waiting.isEmpty()) {
                  channel.close();
                  onIdleClose.run();
                }
              },
              LINGER_SECONDS,
              TimeUnit.SECONDS);
    }
  }

  /**
   * Writes {@code frames}, that many whole commands side by side (passing on its reference), for
   * {@code s}; flushed at the turn's end.
   */
  void send(RedisSession s, ByteBuf frames, int commands) {
    for (int i = 0; i < commands; i++) {
      waiting.add(s);
    }
    if (holds > 0) {
      held.add(frames);
      return;
    }
    channel.write(frames, channel.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      channel.eventLoop().execute(flushTask);
    }
  }

  private void flushNow() {
    flushScheduled = false;
    channel.flush();
  }

  /**
   * Holds every command sent here from now on until {@link #release}: a session is moving off this
   * link to a connection of its own, and nothing read after its command may reach the server before
   * it (a blocking read must not miss the write sent just after it). The hold lasts until the
   * server has run the moved session's first commands ({@link MoveFence}), a round trip on the new
   * connection (after its connect, when no spare was ready); what waits meanwhile is bounded as any
   * write here is, by each session's commands in flight.
   */
  void hold() {
    holds++;
  }

  /** Ends a {@link #hold}: what waited goes out, in the order it was sent. */
  void release() {
    if (holds == 0 || --holds > 0) {
      return;
    }
    ByteBuf frames;
    while ((frames = held.poll()) != null) {
      channel.write(frames, channel.voidPromise());
    }
    flushNow();
  }

  /** Calls {@code s.resume()} when the link can take writes again. */
  void whenWritable(RedisSession s) {
    if (!blocked.contains(s)) {
      blocked.add(s);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    try {
      int i = buf.readerIndex();
      int end = buf.writerIndex();
      if (!named) {
        i = nameReply(buf, i, end);
        if (i < 0) {
          return;
        }
      }
      // A run of replies to one session, from sliceStart, of which `done` have ended.
      RedisSession owner = null;
      int sliceStart = i;
      int done = 0;
      while (i < end) {
        var head = waiting.peek();
        if (head == null) {
          metrics.error("bad_upstream_reply"); // a reply to no command: the link is out of step
          ctx.close();
          return;
        }
        if (head != owner) {
          deliver(buf, owner, sliceStart, i, done);
          owner = head;
          sliceStart = i;
          done = 0;
        }
        int next = scanner.next(buf, i, end);
        if (next < 0) {
          break;
        }
        waiting.poll();
        done++;
        i = next;
      }
      deliver(buf, owner, sliceStart, end, done);
    } catch (RespException e) {
      metrics.error("bad_upstream_reply");
      ctx.close();
    } finally {
      buf.release();
    }
  }

  /** Reads the reply to SETNAME: the index after it, or -1 when the buffer holds no more. */
  private int nameReply(ByteBuf buf, int i, int end) {
    if (nameReplyFirst < 0 && i < end) {
      nameReplyFirst = buf.getByte(i);
    }
    int next = scanner.next(buf, i, end);
    if (next < 0) {
      return -1;
    }
    named = true;
    usable = nameReplyFirst == '+';
    ready.trySuccess(this); // an unusable link too: its callers then take connections of their own
    if (!usable) {
      metrics.error("upstream_auth_required");
      channel.close();
    }
    return usable ? next : -1;
  }

  private void deliver(ByteBuf buf, RedisSession owner, int from, int to, int done) {
    if (owner == null || to == from) {
      return;
    }
    owner.replies(buf.retainedSlice(from, to - from), done);
    if (!owner.flushQueued) {
      owner.flushQueued = true;
      answered.add(owner);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    for (var s : answered) {
      s.flushQueued = false;
      s.flushClient();
    }
    answered.clear();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (channel.isWritable() && !blocked.isEmpty()) {
      var resumed = new ArrayList<>(blocked);
      blocked.clear();
      resumed.forEach(RedisSession::resume);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ready.tryFailure(new ConnectException("connection closed by the server"));
    waiting.clear();
    held.forEach(ByteBuf::release);
    held.clear();
    var lost = new ArrayList<>(sessions);
    sessions.clear();
    blocked.clear();
    for (var s : lost) {
      s.linkLost(this);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
