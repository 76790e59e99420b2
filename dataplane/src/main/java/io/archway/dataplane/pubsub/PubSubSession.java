package io.archway.dataplane.pubsub;

import com.google.protobuf.InvalidProtocolBufferException;
import io.archway.dataplane.pubsub.proto.PongResp;
import io.archway.dataplane.pubsub.proto.PubSubReq;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's pub-sub session, after the upgrade: a {@code PubSubReq} in each binary frame, a
 * {@code PubSubResp} back with its sequence. Pings are answered here; list-offset and fetch go to
 * the backend's consumer threads and come back through {@link #deliver}. The socket is read only
 * while fewer than {@code maxInFlight} commands are being served and the client takes what is
 * written, so a client that floods is held back by TCP rather than buffered; and fetches go to the
 * backend only while the client takes the answers ({@link #submitHeld}), so a client that sends
 * fetches without reading their answers makes the gateway hold a few answers, not one per fetch.
 */
final class PubSubSession extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(PubSubSession.class);

  private final KafkaBackend backend;
  private final PubSubSettings settings;
  private final PubSubMetrics metrics;
  private final String route;
  private ChannelHandlerContext ctx;
  private int inFlight;
  // Fetches handed to the backend and not yet written, and the commands held back meanwhile (in
  // arrival order, so a partition's commands stay in order): a fetch answer is up to
  // max_fetch_size bytes, and a client that does not read must not make the gateway hold many.
  private int fetchesOut;
  private final ArrayDeque<KafkaBackend.Command> held = new ArrayDeque<>();
  // The partitions this session fetched: when it goes, the answers made ahead for them go too.
  private final java.util.HashSet<KafkaBackend.Left> fetched = new java.util.HashSet<>();
  private KafkaBackend.Left lastFetched;
  private boolean paused;
  private boolean closed;
  private boolean toldText;

  PubSubSession(
      KafkaBackend backend, PubSubSettings settings, PubSubMetrics metrics, String route) {
    this.backend = backend;
    this.settings = settings;
    this.metrics = metrics;
    this.route = route;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    metrics.opened();
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (closed) {
        return;
      }
      switch (msg) {
        case BinaryWebSocketFrame b -> command(b.content());
        case TextWebSocketFrame t -> {
          // APISIX skips text frames too; say so once per session, not once per frame.
          if (!toldText) {
            toldText = true;
            log.info(
                "route {}: pub-sub client {} sent a text frame; commands are binary PubSubReq"
                    + " frames, text frames are ignored",
                route,
                ctx.channel().remoteAddress());
          }
        }
        case PingWebSocketFrame p ->
            ctx.writeAndFlush(new PongWebSocketFrame(p.content().retain()));
        case CloseWebSocketFrame c -> {
          closed = true;
          ctx.writeAndFlush(new CloseWebSocketFrame(c.statusCode(), c.reasonText()))
              .addListener(ChannelFutureListener.CLOSE);
        }
        default -> {}
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void command(ByteBuf content) {
    PubSubReq req;
    try {
      req = PubSubReq.parseFrom(content.nioBuffer());
    } catch (InvalidProtocolBufferException e) {
      log.debug("route {}: undecodable pub-sub command: {}", route, e.getMessage());
      metrics.command(PubSubMetrics.Command.other, false);
      write(KafkaBackend.error(0, "wrong command"));
      return;
    }
    long seq = req.getSequence();
    long now = System.nanoTime();
    switch (req.getReqCase()) {
      case CMD_PING -> {
        metrics.command(PubSubMetrics.Command.cmd_ping, true);
        write(
            PubSubResp.newBuilder()
                .setSequence(seq)
                .setPongResp(PongResp.newBuilder().setState(req.getCmdPing().getState()))
                .build());
      }
      case CMD_KAFKA_LIST_OFFSET -> {
        var c = req.getCmdKafkaListOffset();
        if (c.getTimestamp() < -2) {
          metrics.command(PubSubMetrics.Command.cmd_kafka_list_offset, false);
          write(
              KafkaBackend.error(
                  seq,
                  "timestamp: "
                      + c.getTimestamp()
                      + " (expected: a time in ms, -1 for the latest offset or -2 for the"
                      + " earliest)"));
          return;
        }
        submit(
            new KafkaBackend.ListOffset(
                seq,
                c.getTopic(),
                c.getPartition(),
                c.getTimestamp(),
                now,
                r -> reply(PubSubMetrics.Command.cmd_kafka_list_offset, r)));
      }
      case CMD_KAFKA_FETCH -> {
        var c = req.getCmdKafkaFetch();
        if (lastFetched == null
            || lastFetched.partition() != c.getPartition()
            || !lastFetched.topic().equals(c.getTopic())) {
          lastFetched = new KafkaBackend.Left(c.getTopic(), c.getPartition());
          fetched.add(lastFetched);
        }
        if (inFlight == 0 && ctx.channel().isWritable()) {
          // Nothing of this session's before it (answers stay in order) and the client has taken
          // what was written: the answer a consumer thread made ahead for this offset, if any,
          // goes out from here, without a hop to that thread and back. (With an answer still
          // going out, the fetch goes to the thread, which answers it with the next one made
          // ahead: taken here, it would hold the fetch after it back until the socket drains.)
          var ready = backend.ready(c.getTopic(), c.getPartition(), c.getOffset(), seq);
          if (ready != null) {
            metrics.command(PubSubMetrics.Command.cmd_kafka_fetch, true);
            metrics.kafkaCall(true, System.nanoTime() - now);
            ctx.writeAndFlush(new BinaryWebSocketFrame(ready));
            return;
          }
        }
        submit(
            new KafkaBackend.Fetch(
                seq,
                c.getTopic(),
                c.getPartition(),
                c.getOffset(),
                now,
                r -> reply(PubSubMetrics.Command.cmd_kafka_fetch, r)));
      }
      default -> {
        // cmd_empty (a placeholder no handler serves, as in APISIX) or a command this version
        // does not know.
        metrics.command(PubSubMetrics.Command.other, false);
        write(KafkaBackend.error(seq, "unknown command"));
      }
    }
  }

  private void submit(KafkaBackend.Command c) {
    inFlight++;
    held.add(c);
    submitHeld();
  }

  /**
   * Hands the commands held to the backend, in order, while a fetch may go: at most {@link
   * #FETCHES_OUT} answers being made, and less than one answer's worth waiting in the channel's
   * outbound buffer. A slow client thus holds about three answers in the gateway, however many
   * fetches it sends.
   */
  private void submitHeld() {
    KafkaBackend.Command c;
    while ((c = held.peek()) != null) {
      if (c instanceof KafkaBackend.Fetch) {
        if (fetchesOut >= FETCHES_OUT
            || ctx.channel().bytesBeforeWritable() >= settings.maxFetchBytes()) {
          return;
        }
        fetchesOut++;
      }
      held.poll();
      backend.submit(c);
    }
  }

  /** Fetch answers made at once for one session: one written while the next is being made. */
  static final int FETCHES_OUT = 2;

  /** An answer from a consumer thread: encoded there, written on the event loop. */
  private void reply(PubSubMetrics.Command command, KafkaBackend.Answer answer) {
    metrics.command(command, !(answer instanceof KafkaBackend.Reply r && r.resp().hasErrorResp()));
    ByteBuf buf;
    try {
      buf =
          switch (answer) {
            case KafkaBackend.Reply r -> Encoding.encode(ctx.alloc(), r.resp());
            case KafkaBackend.Messages m ->
                Encoding.encodeFetch(ctx.alloc(), m.sequence(), m.records());
            case KafkaBackend.Encoded e -> e.buf();
          };
    } catch (RuntimeException e) {
      log.warn("route {}: cannot encode an answer: {}", route, e.toString());
      buf = Encoding.encode(ctx.alloc(), KafkaBackend.error(answer.sequence(), "internal error"));
    }
    var out = buf;
    boolean fetch = command == PubSubMetrics.Command.cmd_kafka_fetch;
    try {
      ctx.executor().execute(() -> deliver(out, fetch));
    } catch (RejectedExecutionException e) {
      out.release();
    }
  }

  private void deliver(ByteBuf buf, boolean fetch) {
    inFlight--;
    if (fetch) {
      fetchesOut--;
    }
    if (closed || !ctx.channel().isActive()) {
      buf.release();
      return;
    }
    ctx.writeAndFlush(new BinaryWebSocketFrame(buf));
    submitHeld();
    resume();
  }

  private void write(PubSubResp resp) {
    ctx.writeAndFlush(new BinaryWebSocketFrame(Encoding.encode(ctx.alloc(), resp)));
  }

  private boolean canRead() {
    return !closed && inFlight < settings.maxInFlight() && ctx.channel().isWritable();
  }

  private void resume() {
    if (paused && canRead()) {
      paused = false;
      ctx.read();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (canRead()) {
      ctx.read();
    } else {
      paused = true;
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (!closed) {
      submitHeld();
    }
    resume();
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      if (inFlight == 0 && !closed) {
        closed = true;
        ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE, "idle"))
            .addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    held.clear();
    for (var p : fetched) {
      backend.left(p.topic(), p.partition());
    }
    backend.release();
    metrics.closed();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof PrematureChannelClosureException) {
      // The client left in the middle of a message: its business, not a failure to log.
      log.debug("route {}: pub-sub client left mid-message", route);
      return;
    }
    if (cause instanceof TooLongFrameException
        || cause instanceof CorruptedWebSocketFrameException) {
      boolean tooBig =
          cause instanceof TooLongFrameException
              || cause instanceof CorruptedWebSocketFrameException c
                  && c.closeStatus() != null
                  && c.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code();
      if (tooBig) {
        metrics.tooBig();
      }
      log.debug("route {}: pub-sub session closed: {}", route, cause.getMessage());
      if (!closed && ctx.channel().isActive()) {
        closed = true;
        // The frame decoder closes on its own violations; the aggregator leaves it to us.
        ctx.writeAndFlush(
                new CloseWebSocketFrame(
                    tooBig
                        ? WebSocketCloseStatus.MESSAGE_TOO_BIG
                        : WebSocketCloseStatus.PROTOCOL_ERROR))
            .addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    if (!(cause instanceof IOException)) {
      log.warn("route {}: pub-sub session failed", route, cause);
    }
    ctx.close();
  }
}
