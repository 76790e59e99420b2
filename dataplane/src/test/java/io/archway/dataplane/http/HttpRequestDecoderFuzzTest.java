package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Fuzz;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the HTTP/1 request decoder of the client pipeline: mutated requests (methods, versions,
 * header lines, obs-fold, Content-Length and Transfer-Encoding combinations, chunked bodies with
 * extensions and trailers) in random reads. No exception escapes the channel, every message is
 * released, messages come in order (a head, its content, its last content), a request that decodes
 * has an unambiguous body length, and valid requests decode as written. {@link #decoder()} is the
 * one place that names the decoder. See docs/fuzzing.md.
 */
class HttpRequestDecoderFuzzTest {

  /** The decoder under test, configured as {@code HttpChannelInitializer} configures it. */
  static ChannelHandler decoder() {
    var s = HttpSettings.DEFAULTS;
    return new Http1ServerCodec(s.maxUriLength(), s.maxHeaderSize());
  }

  @Property
  void randomBytes(@ForAll("noise") byte[] input, @ForAll("splits") List<Integer> splits) {
    decode(input, splits);
  }

  @Property
  void mutatedRequests(@ForAll("mutated") byte[] input, @ForAll("splits") List<Integer> splits) {
    decode(input, splits);
  }

  /** Requests made of odd but possible parts, unmutated. */
  @Property
  void oddRequests(@ForAll("seeds") long seed, @ForAll("splits") List<Integer> splits) {
    decode(odd(new Random(seed)), splits);
  }

  @Property
  void validRequestsDecodeAsWrittenWhateverTheSplit(
      @ForAll("seeds") long seed, @ForAll("splits") List<Integer> splits) {
    var r = new Random(seed);
    var sent = new ArrayList<Valid>();
    var out = new ByteArrayOutputStream();
    for (int i = r.nextInt(1, 4); i > 0; i--) {
      var v = Valid.make(r);
      sent.add(v);
      out.writeBytes(v.bytes);
    }
    var got = decode(out.toByteArray(), splits);
    assertThat(got).hasSize(sent.size());
    for (int i = 0; i < sent.size(); i++) {
      var g = got.get(i);
      var v = sent.get(i);
      assertThat(g.failure).isNull();
      assertThat(g.method + " " + g.uri).isEqualTo(v.method + " " + v.uri);
      assertThat(g.header).isEqualTo(v.header);
      assertThat(g.body.toByteArray()).isEqualTo(v.body);
      assertThat(g.complete).isTrue();
    }
  }

  /** One request as decoded. */
  static final class Decoded {
    String method;
    String uri;
    String header; // the X-Fuzz header's value
    Throwable failure;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean complete;
  }

  /** Feeds {@code input}; checks and releases every message; returns the requests seen. */
  static List<Decoded> decode(byte[] input, List<Integer> splits) {
    var ch = new EmbeddedChannel(decoder());
    var requests = new ArrayList<Decoded>();
    for (var piece : Fuzz.cut(input, splits)) {
      ch.writeInbound(Unpooled.wrappedBuffer(piece)); // throws what escapes the pipeline
      drain(ch, requests);
    }
    boolean pending = ch.finish();
    int before = requests.size();
    int left = drain(ch, requests);
    assertThat(pending).isEqualTo(left > 0);
    assertThat(requests.size()).isGreaterThanOrEqualTo(before);
    return requests;
  }

  private static int drain(EmbeddedChannel ch, List<Decoded> requests) {
    int n = 0;
    Object m;
    while ((m = ch.readInbound()) != null) {
      n++;
      try {
        check((HttpObject) m, requests);
      } finally {
        ReferenceCountUtil.release(m);
      }
    }
    return n;
  }

  private static void check(HttpObject m, List<Decoded> requests) {
    var last = requests.isEmpty() ? null : requests.get(requests.size() - 1);
    if (m instanceof HttpRequest req) {
      assertThat(last == null || last.complete || last.failure != null)
          .as("a request head before the previous request ended")
          .isTrue();
      var d = new Decoded();
      requests.add(d);
      d.method = req.method().name();
      d.uri = req.uri();
      d.header = req.headers().get("X-Fuzz");
      if (req.decoderResult().isFailure()) {
        d.failure = req.decoderResult().cause();
      } else {
        // A request that decodes has one body length (RFC 9112 6.3): never both headers, and
        // Content-Length one non-negative number.
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        var lengths = req.headers().getAll(HttpHeaderNames.CONTENT_LENGTH);
        if (chunked) {
          assertThat(lengths).as("Content-Length beside chunked").isEmpty();
        } else if (!lengths.isEmpty()) {
          assertThat(lengths).hasSize(1);
          assertThat(lengths.get(0)).matches("[0-9]+");
        }
      }
    }
    if (m instanceof HttpContent c) {
      var current = requests.isEmpty() ? null : requests.get(requests.size() - 1);
      assertThat(current).as("content before any request head: %s", m).isNotNull();
      assertThat(current.complete).as("content after the request ended: %s", m).isFalse();
      var b = new byte[c.content().readableBytes()];
      c.content().getBytes(c.content().readerIndex(), b);
      current.body.writeBytes(b);
      if (c.decoderResult().isFailure() && current.failure == null) {
        current.failure = c.decoderResult().cause();
      }
      current.complete = m instanceof LastHttpContent;
    }
  }

  /** A valid request and what it must decode to. */
  record Valid(String method, String uri, String header, byte[] body, byte[] bytes) {
    static Valid make(Random r) {
      var method = pick(r, "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
      var uri = "/" + word(r, 0, 12) + (r.nextBoolean() ? "?a=" + word(r, 0, 5) : "");
      var header = word(r, 0, 20);
      var body = new byte[method.equals("GET") ? 0 : r.nextInt(0, 300)];
      r.nextBytes(body);
      var s = new StringBuilder(method + " " + uri + " HTTP/1.1\r\nHost: example.com\r\n");
      s.append("X-Fuzz: ").append(header).append("\r\n");
      var out = new ByteArrayOutputStream();
      boolean chunked = body.length > 0 && r.nextBoolean();
      if (chunked) {
        s.append("Transfer-Encoding: chunked\r\n\r\n");
        out.writeBytes(s.toString().getBytes(StandardCharsets.ISO_8859_1));
        int at = 0;
        while (at < body.length) {
          int n = Math.min(body.length - at, r.nextInt(1, 100));
          var ext = r.nextInt(4) == 0 ? ";ext=" + word(r, 1, 5) : "";
          out.writeBytes(
              (Integer.toHexString(n) + ext + "\r\n").getBytes(StandardCharsets.US_ASCII));
          out.write(body, at, n);
          out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
          at += n;
        }
        var trailer = r.nextBoolean() ? "X-Trailer: " + word(r, 0, 5) + "\r\n" : "";
        out.writeBytes(("0\r\n" + trailer + "\r\n").getBytes(StandardCharsets.US_ASCII));
      } else {
        if (body.length > 0 || r.nextBoolean()) {
          s.append("Content-Length: ").append(body.length).append("\r\n");
        }
        s.append("\r\n");
        out.writeBytes(s.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(body);
      }
      return new Valid(method, uri, header, body, out.toByteArray());
    }
  }

  /** A request of odd parts: each line, header and body framing drawn from what attacks use. */
  static byte[] odd(Random r) {
    var s = new StringBuilder();
    s.append(
        pick(r, "GET", "POST", "get", "G ET", "PRI", "CONNECT", "", "\u00ff", "M".repeat(300)));
    s.append(pick(r, " ", "  ", "\t", ""));
    s.append(
        pick(
            r,
            "/",
            "*",
            "http://a/b",
            "/a b",
            "/%00",
            r.nextInt(20) == 0 ? "/" + "x".repeat(HttpSettings.DEFAULTS.maxUriLength()) : "/x",
            "",
            "example:443"));
    s.append(pick(r, " HTTP/1.1", " HTTP/1.0", " HTTP/2.0", " HTTP/1.10", " http/1.1", "", " H"));
    s.append(pick(r, "\r\n", "\n", "\r", " \r\n"));
    for (int i = r.nextInt(0, 6); i > 0; i--) {
      s.append(
          pick(
              r,
              "Host: a\r\n",
              "Host: a\r\nHost: b\r\n",
              "Content-Length: 5\r\n",
              "Content-Length: 5\r\nContent-Length: 6\r\n",
              "Content-Length: 5, 5\r\n",
              "Content-Length: -1\r\n",
              "Content-Length: +5\r\n",
              "Content-Length: 99999999999999999999\r\n",
              "Transfer-Encoding: chunked\r\n",
              "Transfer-Encoding: gzip, chunked\r\n",
              "Transfer-Encoding: chunked, identity\r\n",
              "Transfer-Encoding : chunked\r\n",
              "Transfer-Encoding:\tchunked\r\n",
              "X-Fold: a\r\n b\r\n",
              " leading: space\r\n",
              "NoColon\r\n",
              ": empty name\r\n",
              "X: \u0000\r\n",
              r.nextInt(20) == 0
                  ? "X-Long: " + "v".repeat(HttpSettings.DEFAULTS.maxHeaderSize()) + "\r\n"
                  : "X-Long: " + "v".repeat(r.nextInt(0, 200)) + "\r\n",
              "Expect: 100-continue\r\n",
              "Connection: close, upgrade\r\nUpgrade: websocket\r\n"));
    }
    s.append(pick(r, "\r\n", "\n", ""));
    s.append(
        pick(
            r,
            "",
            "hello",
            "5\r\nhello\r\n0\r\n\r\n",
            "5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
            "ffffffffffffffff1\r\nx\r\n",
            "-1\r\n",
            "5\r\nhel",
            "0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            "5\nhello\n0\n\n",
            " 5\r\nhello\r\n0\r\n\r\n"));
    return s.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String pick(Random r, String... choices) {
    return choices[r.nextInt(choices.length)];
  }

  private static String word(Random r, int min, int max) {
    var s = new StringBuilder();
    for (int i = r.nextInt(min, max + 1); i > 0; i--) {
      s.append((char) ('a' + r.nextInt(26)));
    }
    return s.toString();
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }

  @Provide
  Arbitrary<List<Integer>> splits() {
    return Fuzz.splits();
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Fuzz.bytes(400);
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    return Fuzz.mutated(
        Arbitraries.longs()
            .map(
                seed -> {
                  var r = new Random(seed);
                  return r.nextBoolean() ? Valid.make(r).bytes : odd(r);
                }),
        6);
  }
}
