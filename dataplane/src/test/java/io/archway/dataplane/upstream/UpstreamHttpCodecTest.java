package io.archway.dataplane.upstream;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The codec of connections to nodes: header names and status words kept byte for byte whether or
 * not they come from its table of constants, answers framed by their request's method as Netty's
 * client codec frames them, and what it makes of odd or malformed answers the same as that codec.
 */
class UpstreamHttpCodecTest {

  private final EmbeddedChannel ch = new EmbeddedChannel(new UpstreamHttpCodec(4096, 8192, 8192));

  @AfterEach
  void finish() {
    ch.finishAndReleaseAll();
  }

  private void send(HttpMethod method) {
    ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
    ReferenceCountUtil.release(ch.readOutbound());
  }

  private List<Object> receive(String wire) {
    ch.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
    var out = new ArrayList<>();
    for (Object m; (m = ch.readInbound()) != null; ) {
      out.add(m);
    }
    return out;
  }

  private static void release(List<Object> msgs) {
    msgs.forEach(ReferenceCountUtil::release);
  }

  @Test
  void namesAndWordsAreKeptAsSent() {
    send(HttpMethod.GET);
    var msgs =
        receive(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\ncontent-type: text/plain\r\nX-Own: a\r\n"
                + "CONTENT-LENGTH: 2\r\nDate: today\r\n\r\nhi");
    var res = (HttpResponse) msgs.get(0);
    assertThat(res.decoderResult().isSuccess()).isTrue();
    assertThat(res.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(res.status().code()).isEqualTo(200);
    assertThat(res.status().reasonPhrase()).isEqualTo("OK");
    var names = new ArrayList<String>();
    res.headers().forEach((Map.Entry<String, String> e) -> names.add(e.getKey()));
    assertThat(names).containsExactly("Server", "content-type", "X-Own", "CONTENT-LENGTH", "Date");
    assertThat(res.headers().get("content-length")).isEqualTo("2");
    var body = ((HttpContent) msgs.get(msgs.size() - 1)).content();
    assertThat(body.toString(StandardCharsets.US_ASCII)).isEqualTo("hi");
    release(msgs);
  }

  @Test
  void anUnusualReasonIsKept() {
    send(HttpMethod.GET);
    var msgs = receive("HTTP/1.0 299 Fine Anyway\r\nContent-Length: 0\r\n\r\n");
    var res = (HttpResponse) msgs.get(0);
    assertThat(res.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_0);
    assertThat(res.status().code()).isEqualTo(299);
    assertThat(res.status().reasonPhrase()).isEqualTo("Fine Anyway");
    release(msgs);
  }

  @Test
  void aHeadAnswerHasNoBodyAndTheNextAnswerIsReadAsItsOwn() {
    send(HttpMethod.HEAD);
    send(HttpMethod.GET);
    var msgs =
        receive(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                + "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc");
    var heads = msgs.stream().filter(m -> m instanceof HttpResponse).toList();
    assertThat(heads)
        .extracting(m -> ((HttpResponse) m).status().code())
        .containsExactly(100, 200, 404);
    var bodies = new StringBuilder();
    for (var m : msgs) {
      if (m instanceof HttpContent c) {
        bodies.append(c.content().toString(StandardCharsets.US_ASCII)).append('|');
      }
    }
    // 100: an empty end; HEAD's 200: no body despite its length; the 404's own body.
    assertThat(bodies.toString()).isEqualTo("||abc|");
    release(msgs);
  }

  /** What a decoder makes of {@code wire} after a GET: each message's type and outcome. */
  private static List<String> decoded(EmbeddedChannel channel, String wire) {
    channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    ReferenceCountUtil.release(channel.readOutbound());
    channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
    var out = new ArrayList<String>();
    for (Object m; (m = channel.readInbound()) != null; ) {
      var text = m.getClass().getSimpleName();
      if (m instanceof FullHttpResponse r) {
        // One message where Netty's codec gives two: described as those two.
        out.add(
            "DefaultHttpResponse "
                + r.status()
                + " "
                + r.headers().entries()
                + " "
                + r.decoderResult());
        text =
            "DefaultLastHttpContent "
                + r.content().toString(StandardCharsets.ISO_8859_1)
                + " success";
      } else if (m instanceof HttpResponse r) {
        text += " " + r.status() + " " + r.headers().entries() + " " + r.decoderResult();
      } else if (m instanceof HttpContent c) {
        text += " " + c.content().toString(StandardCharsets.ISO_8859_1) + " " + c.decoderResult();
      }
      out.add(text);
      ReferenceCountUtil.release(m);
    }
    channel.finishAndReleaseAll();
    return out;
  }

  @Test
  void aWholeBodyInTheSameReadComesWithItsHeadAsOneMessage() {
    send(HttpMethod.GET);
    var msgs = receive("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi");
    assertThat(msgs).hasSize(1);
    var res = (FullHttpResponse) msgs.get(0);
    assertThat(res.status().code()).isEqualTo(200);
    assertThat(res.headers().get("x-a")).isEqualTo("b");
    assertThat(res.content().toString(US_ASCII)).isEqualTo("hi");
    assertThat(res.trailingHeaders().isEmpty()).isTrue();
    release(msgs);
  }

  @Test
  void aBodyNotYetReadWholeOrChunkedOrWithoutLengthComesInPieces() {
    send(HttpMethod.GET);
    send(HttpMethod.GET);
    var first = receive("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhi");
    assertThat(first).hasSize(2).first().isNotInstanceOf(FullHttpResponse.class);
    var rest =
        receive("ho" + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
    assertThat(rest).noneMatch(m -> m instanceof FullHttpResponse);
    assertThat(rest.get(0)).isInstanceOf(LastHttpContent.class); // the rest of the first body
    release(first);
    release(rest);
    send(HttpMethod.GET);
    var unframed = receive("HTTP/1.0 200 OK\r\n\r\nhi");
    assertThat(unframed).noneMatch(m -> m instanceof FullHttpResponse);
    release(unframed);
  }

  @Test
  void aBodyLongerThanOnePieceIsNotGathered() {
    send(HttpMethod.GET);
    var body = "x".repeat(8192 + 1);
    var msgs = receive("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    assertThat(msgs).noneMatch(m -> m instanceof FullHttpResponse);
    assertThat(msgs).hasSize(3); // head, 8192 bytes, the last byte
    release(msgs);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent(Type: x\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nServer: a\r\n b\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nGrpc-Status: 0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nDate: \u0001\r\nContent-Length: 0\r\n\r\n"
      })
  void decodesAsNettysClientCodec(String wire) {
    assertThat(decoded(new EmbeddedChannel(new UpstreamHttpCodec(4096, 8192, 8192)), wire))
        .isEqualTo(decoded(new EmbeddedChannel(new HttpClientCodec(4096, 8192, 8192)), wire));
  }

  @Test
  void aConnectAnsweredTwoHundredBecomesATunnel() {
    send(HttpMethod.CONNECT);
    var msgs = receive("HTTP/1.1 200 Connection Established\r\n\r\nraw bytes");
    assertThat(msgs.get(0)).isInstanceOf(HttpResponse.class);
    assertThat(msgs.get(1)).isInstanceOf(LastHttpContent.class);
    assertThat(((ByteBuf) msgs.get(2)).toString(StandardCharsets.US_ASCII)).isEqualTo("raw bytes");
    release(msgs);
  }

  @Test
  void theTableFindsOnlyExactBytes() {
    var sb = "xContent-Typey".getBytes(StandardCharsets.US_ASCII);
    assertThat((Object) KnownWords.NAMES.find(sb, 1, 12)).hasToString("Content-Type");
    assertThat((Object) KnownWords.NAMES.find(sb, 1, 11)).isNull();
    assertThat((Object) KnownWords.NAMES.find("Content-TYPE".getBytes(US_ASCII), 0, 12)).isNull();
  }
}
