package io.archway.dataplane.flow;

import io.archway.dataplane.exchange.Downstream;
import io.archway.dataplane.exchange.ExchangeTimer;
import io.archway.dataplane.route.Peer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/** The client of a dry-run: nobody; what would be written is dropped. */
record NoClient(EventLoop eventLoop, Peer peer) implements Downstream {
  @Override
  public ByteBufAllocator alloc() {
    return UnpooledByteBufAllocator.DEFAULT;
  }

  @Override
  public String protocol() {
    return "HTTP/1.1";
  }

  @Override
  public ExchangeTimer timer() {
    return new ExchangeTimer(eventLoop);
  }

  @Override
  public void pullBody() {}

  @Override
  public void sendContinue() {}

  @Override
  public void write(HttpObject msg) {
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void flush() {}

  @Override
  public boolean isWritable() {
    return true;
  }

  @Override
  public boolean keepAlive() {
    return false;
  }

  @Override
  public void closeAfterResponse() {}

  @Override
  public void close() {}

  @Override
  public void exchangeDone(boolean reusable) {}

  @Override
  public boolean clientCertificateAdmits(String path) {
    return true;
  }

  @Override
  public ChannelHandlerContext connection() {
    return null;
  }

  @Override
  public void upgraded() {}
}
