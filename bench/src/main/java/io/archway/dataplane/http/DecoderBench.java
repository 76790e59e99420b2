package io.archway.dataplane.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The cost of reading a request on the client side: Archway's strict codec ({@link
 * Http1ServerCodec} with {@link RequestFraming}) against Netty's {@code HttpServerCodec}, which it
 * replaced, in one JVM, in alternating rounds, on the same bytes: a browser-like GET, a POST with a
 * 4 KiB body, and a chunked POST. It lives in the codec's package to reach it; it is not a test.
 *
 * <p>Usage: {@code bench/run decoder [requests] [rounds]}
 */
public final class DecoderBench {

  private DecoderBench() {}

  private static final String GET =
      "GET /api/v1/users/42?fields=name,email HTTP/1.1\r\n"
          + "Host: api.example.com\r\n"
          + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\r\n"
          + "Accept: application/json, text/plain, */*\r\n"
          + "Accept-Language: en-US,en;q=0.9\r\n"
          + "Accept-Encoding: gzip, deflate, br\r\n"
          + "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl\r\n"
          + "Cookie: session=abc123; theme=dark\r\n"
          + "X-Request-Id: 9f1c2e7a-1b2c-4d5e-8f90-123456789abc\r\n"
          + "Connection: keep-alive\r\n\r\n";
  private static final String POST =
      "POST /api/v1/upload HTTP/1.1\r\nHost: api.example.com\r\n"
          + "Content-Type: application/octet-stream\r\nContent-Length: 4096\r\n\r\n"
          + "x".repeat(4096);
  private static final String CHUNKED =
      "POST /api/v1/stream HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "400\r\n"
          + "y".repeat(1024)
          + "\r\n"
          + "400\r\n"
          + "y".repeat(1024)
          + "\r\n0\r\n\r\n";

  public static void main(String[] args) {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    var s = HttpSettings.DEFAULTS;
    Supplier<ChannelHandler> netty =
        () -> new HttpServerCodec(s.maxUriLength(), s.maxHeaderSize(), 16 * 1024);
    Supplier<ChannelHandler> archway =
        () -> new Http1ServerCodec(s.maxUriLength(), s.maxHeaderSize());
    System.out.println("ns per request, best of " + rounds + " rounds of " + requests + ":");
    System.out.println();
    System.out.println(
        "| request | Netty HttpServerCodec | Archway Http1ServerCodec | Archway / Netty |");
    System.out.println("|---|---:|---:|---:|");
    for (var c :
        new String[][] {{"GET, 10 fields", GET}, {"POST 4 KiB", POST}, {"chunked POST", CHUNKED}}) {
      var bytes = c[1].getBytes(StandardCharsets.ISO_8859_1);
      run(netty, bytes, requests / 10); // warm-up
      run(archway, bytes, requests / 10);
      double bestN = Double.MAX_VALUE;
      double bestA = Double.MAX_VALUE;
      for (int r = 0; r < rounds; r++) {
        bestN = Math.min(bestN, run(netty, bytes, requests));
        bestA = Math.min(bestA, run(archway, bytes, requests));
      }
      System.out.printf("| %s | %.0f | %.0f | %.3f |%n", c[0], bestN, bestA, bestA / bestN);
    }
  }

  /** Decodes {@code n} requests, 64 per read as a pipelining client sends them; ns per request. */
  private static double run(Supplier<ChannelHandler> codec, byte[] request, int n) {
    var ch = new EmbeddedChannel(codec.get());
    int batch = 64;
    long start = System.nanoTime();
    for (int done = 0; done < n; done += batch) {
      ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(request.length * batch);
      for (int i = 0; i < batch; i++) {
        in.writeBytes(request);
      }
      ch.writeInbound(in);
      Object m;
      while ((m = ch.readInbound()) != null) {
        ReferenceCountUtil.release(m);
      }
    }
    long nanos = System.nanoTime() - start;
    ch.finishAndReleaseAll();
    return (double) nanos / n;
  }
}
