package io.archway.dataplane.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * One connection to a node, the last handler of its pipeline. It hands what the node sends to the
 * exchange using it; while it idles in the pool it has none, and anything the node sends then (or a
 * close) retires it.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {

  /** What an exchange hears from its connection. Called on the connection's event loop. */
  public interface Listener {
    void onUpstreamMessage(Object msg);

    void onUpstreamReadComplete();

    void onUpstreamWritable();

    void onUpstreamClosed();
  }

  private final Endpoint endpoint;
  private Channel channel;
  private Listener listener;
  private int requests;
  private ConnectionPools.Idle idle;
  long idleDeadline; // System.nanoTime() past which an idle connection is closed

  UpstreamConnection(Endpoint endpoint) {
    this.endpoint = endpoint;
  }

  Endpoint endpoint() {
    return endpoint;
  }

  public Channel channel() {
    return channel;
  }

  /** Requests sent on this connection so far, this one included. */
  int requests() {
    return requests;
  }

  /** Hands the connection to an exchange for one request. */
  public void attach(Listener l) {
    listener = l;
    requests++;
  }

  /** The exchange is done with the connection. */
  public void detach() {
    listener = null;
  }

  void idleIn(ConnectionPools.Idle pool) {
    idle = pool;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    var l = listener;
    if (l != null) {
      l.onUpstreamMessage(msg);
      return;
    }
    // Nothing is asked of an idle connection: whatever comes now is unexpected.
    ReferenceCountUtil.release(msg);
    if (!(msg instanceof HttpObject)) {
      return;
    }
    ctx.close();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    var l = listener;
    if (l != null) {
      l.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    var l = listener;
    if (l != null && ctx.channel().isWritable()) {
      l.onUpstreamWritable();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    var pool = idle;
    if (pool != null) {
      pool.remove(this);
    }
    var l = listener;
    listener = null;
    if (l != null) {
      l.onUpstreamClosed();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // The close tells the exchange (channelInactive), which decides what the failure means.
    ctx.close();
  }
}
