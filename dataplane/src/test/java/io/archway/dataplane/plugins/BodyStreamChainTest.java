package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.plugin.BodyStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** Body streams in a chain: each piece through both, in order; every buffer released once. */
class BodyStreamChainTest {

  /** Upper-cases each piece, and ends the body with a marker. */
  static final class Upper implements BodyStream {
    boolean aborted;

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      var s = in.toString(StandardCharsets.UTF_8).toUpperCase();
      in.release();
      return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      return Unpooled.copiedBuffer("!", StandardCharsets.UTF_8);
    }

    @Override
    public void abort() {
      aborted = true;
    }
  }

  @Test
  void piecesGoThroughBothInOrder() throws Exception {
    var alloc = ByteBufAllocator.DEFAULT;
    var chain = BodyStream.chain(new Upper(), new GzipPlugin.GzipStream(1));
    var out = alloc.compositeBuffer();
    out.addComponent(
        true, chain.next(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8), alloc));
    out.addComponent(
        true, chain.next(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8), alloc));
    out.addComponent(true, chain.finish(alloc));
    var gz = ByteBufUtil.getBytes(out);
    out.release();
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("HELLO WORLD!");
    }
  }

  @Test
  void anAbortReachesEveryStream() {
    var first = new Upper();
    var second = new Upper();
    var chain = BodyStream.chain(first, second);
    chain
        .next(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8), ByteBufAllocator.DEFAULT)
        .release();
    chain.abort();
    assertThat(first.aborted).isTrue();
    assertThat(second.aborted).isTrue();
  }
}
