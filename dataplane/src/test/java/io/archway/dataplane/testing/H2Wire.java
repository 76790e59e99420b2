package io.archway.dataplane.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A raw HTTP/2 client over a plain socket (h2c prior knowledge) for attack and conformance tests:
 * frames are written with Netty's frame writer (or as raw bytes, for what the writer refuses to
 * write), and what the server sends is read on a thread of its own with Netty's frame reader and
 * kept as one line per frame: {@code HEADERS 1 200 end}, {@code DATA 1 512 end}, {@code RST 3 1},
 * {@code GOAWAY 5 11}, {@code PING ack}, {@code SETTINGS}, {@code EOF}.
 */
public final class H2Wire implements AutoCloseable {

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final Socket socket;
  private final OutputStream out;
  private final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter());
  private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
  private final ChannelHandlerContext ctx = channel.pipeline().firstContext();
  private final Thread reader;
  private volatile long dataBytes;
  private final java.util.Map<Integer, java.util.concurrent.atomic.AtomicLong> credit =
      new java.util.concurrent.ConcurrentHashMap<>();

  private H2Wire(int port, Http2Settings settings) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    reader = Thread.ofPlatform().daemon().name("h2wire").start(this::read);
    out.write(PREFACE);
    write(() -> writer.writeSettings(ctx, settings, ctx.newPromise()));
    write(() -> writer.writeSettingsAck(ctx, ctx.newPromise()));
  }

  /** Connects with the preface, {@code settings} and an acknowledgement of the server's. */
  public static H2Wire connect(int port, Http2Settings settings) throws IOException {
    return new H2Wire(port, settings);
  }

  public static H2Wire connect(int port) throws IOException {
    return connect(port, new Http2Settings());
  }

  /** A GET of {@code path} (lower-case names, pseudo-headers first). */
  public static Http2Headers get(String path) {
    return new DefaultHttp2Headers().method("GET").scheme("http").path(path).authority("localhost");
  }

  public void headers(int stream, Http2Headers h, boolean endStream) throws IOException {
    write(() -> writer.writeHeaders(ctx, stream, h, 0, endStream, ctx.newPromise()));
  }

  public void data(int stream, byte[] bytes, boolean endStream) throws IOException {
    write(
        () ->
            writer.writeData(
                ctx, stream, Unpooled.wrappedBuffer(bytes), 0, endStream, ctx.newPromise()));
  }

  public void reset(int stream, Http2Error error) throws IOException {
    write(() -> writer.writeRstStream(ctx, stream, error.code(), ctx.newPromise()));
  }

  public void ping(long payload) throws IOException {
    write(() -> writer.writePing(ctx, false, payload, ctx.newPromise()));
  }

  public void settings(Http2Settings s) throws IOException {
    write(() -> writer.writeSettings(ctx, s, ctx.newPromise()));
  }

  public void windowUpdate(int stream, int increment) throws IOException {
    write(() -> writer.writeWindowUpdate(ctx, stream, increment, ctx.newPromise()));
  }

  /**
   * A frame as raw bytes: the 9-byte header and {@code payload}; false when the server has closed
   * the connection.
   */
  public boolean frame(int type, int flags, int stream, byte[] payload) {
    var b = new byte[9 + payload.length];
    b[0] = (byte) (payload.length >>> 16);
    b[1] = (byte) (payload.length >>> 8);
    b[2] = (byte) payload.length;
    b[3] = (byte) type;
    b[4] = (byte) flags;
    b[5] = (byte) (stream >>> 24);
    b[6] = (byte) (stream >>> 16);
    b[7] = (byte) (stream >>> 8);
    b[8] = (byte) stream;
    System.arraycopy(payload, 0, b, 9, payload.length);
    return raw(b);
  }

  /** Writes {@code b} as they are; false when the server has closed the connection. */
  public boolean raw(byte[] b) {
    try {
      out.write(b);
      out.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private interface Write {
    void run() throws Exception;
  }

  private void write(Write w) throws IOException {
    try {
      w.run();
    } catch (Exception e) {
      throw new IOException(e);
    }
    channel.flushOutbound();
    ByteBuf b;
    while ((b = channel.readOutbound()) != null) {
      try {
        out.write(ByteBufUtil.getBytes(b));
      } finally {
        b.release();
      }
    }
    out.flush();
  }

  /** Waits for a frame line that {@code p} accepts, and returns it; earlier lines are kept. */
  public String await(Predicate<String> p, Duration timeout) throws InterruptedException {
    synchronized (seen) {
      for (var s : seen) {
        if (p.test(s)) {
          return s;
        }
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      var s = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
      if (s == null) {
        throw new AssertionError("no frame matched within " + timeout + "; got " + lines());
      }
      if (p.test(s)) {
        return s;
      }
    }
  }

  /** Waits for a line that starts with {@code prefix}. */
  public String await(String prefix) throws InterruptedException {
    return await(s -> s.startsWith(prefix), Duration.ofSeconds(10));
  }

  /** Every frame line read so far. */
  public List<String> lines() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** WINDOW_UPDATE increments received so far for {@code stream} (0: the connection). */
  public long credit(int stream) {
    var c = credit.get(stream);
    return c == null ? 0 : c.get();
  }

  /**
   * Waits until the server has credited {@code stream} with at least {@code atLeast} bytes; false
   * if it has not within {@code timeout}.
   */
  public boolean awaitCredit(int stream, long atLeast, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (credit(stream) < atLeast) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      frames.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
    }
    return true;
  }

  /** DATA bytes received so far, over all streams. */
  public long dataBytes() {
    return dataBytes;
  }

  private void add(String line) {
    synchronized (seen) {
      seen.add(line);
    }
    frames.add(line);
  }

  private void read() {
    // The frame reader allocates header blocks from its context: one of its own, on this thread.
    var readerChannel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter());
    var readerCtx = readerChannel.pipeline().firstContext();
    var in = Unpooled.buffer();
    var frameReader = new DefaultHttp2FrameReader(false);
    var listener =
        new Http2FrameAdapter() {
          @Override
          public int onDataRead(
              ChannelHandlerContext c, int stream, ByteBuf data, int padding, boolean end) {
            dataBytes += data.readableBytes();
            add("DATA " + stream + " " + data.readableBytes() + (end ? " end" : ""));
            return data.readableBytes() + padding;
          }

          @Override
          public void onHeadersRead(
              ChannelHandlerContext c, int stream, Http2Headers h, int padding, boolean end) {
            add(
                "HEADERS "
                    + stream
                    + " "
                    + (h.status() == null ? "trailers" : h.status())
                    + (end ? " end" : ""));
          }

          @Override
          public void onHeadersRead(
              ChannelHandlerContext c,
              int stream,
              Http2Headers h,
              int dep,
              short weight,
              boolean exclusive,
              int padding,
              boolean end) {
            onHeadersRead(c, stream, h, padding, end);
          }

          @Override
          public void onRstStreamRead(ChannelHandlerContext c, int stream, long code) {
            add("RST " + stream + " " + code);
          }

          @Override
          public void onGoAwayRead(ChannelHandlerContext c, int last, long code, ByteBuf debug) {
            add("GOAWAY " + last + " " + code);
          }

          @Override
          public void onWindowUpdateRead(ChannelHandlerContext c, int stream, int increment) {
            credit
                .computeIfAbsent(stream, k -> new java.util.concurrent.atomic.AtomicLong())
                .addAndGet(increment);
            add("WINDOW " + stream + " " + increment);
          }

          @Override
          public void onPingAckRead(ChannelHandlerContext c, long data) {
            add("PING ack");
          }

          @Override
          public void onSettingsRead(ChannelHandlerContext c, Http2Settings s) {
            add("SETTINGS " + s);
          }
        };
    try (InputStream input = socket.getInputStream()) {
      var buf = new byte[16384];
      int n;
      while ((n = input.read(buf)) > 0) {
        in.writeBytes(buf, 0, n);
        frameReader.readFrame(readerCtx, in, listener);
        in.discardReadBytes();
      }
    } catch (IOException | Http2Exception e) {
      // the connection ended
    } catch (RuntimeException e) {
      add("ERROR " + e);
    } finally {
      in.release();
      frameReader.close();
      add("EOF");
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    channel.finishAndReleaseAll();
  }
}
