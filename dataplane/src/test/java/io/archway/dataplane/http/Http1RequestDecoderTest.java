package io.archway.dataplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Http1RequestDecoderTest {

  /** What came out of the decoder for some input: requests with their bodies, or a refusal. */
  record Decoded(List<String> requests, List<String> bodies, int refusal) {}

  static Decoded decode(String input, int split) {
    var methods = new ArrayList<HttpMethod>();
    var ch = new EmbeddedChannel(new Http1RequestDecoder(8192, 16 * 1024, methods::add));
    var bytes = input.getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < bytes.length; i += split) {
      ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(split, bytes.length - i)));
    }
    ch.finish();
    var requests = new ArrayList<String>();
    var bodies = new ArrayList<String>();
    var body = new StringBuilder();
    int refusal = 0;
    Object m;
    while ((m = ch.readInbound()) != null) {
      try {
        if (((HttpObject) m).decoderResult().isFailure()) {
          refusal = ((RequestRejected) ((HttpObject) m).decoderResult().cause()).status();
          continue;
        }
        if (m instanceof HttpRequest r) {
          requests.add(
              r.method() + " " + r.uri() + " " + r.protocolVersion() + " " + r.headers().entries());
        }
        if (m instanceof HttpContent c) {
          body.append(c.content().toString(StandardCharsets.ISO_8859_1));
        }
        if (m instanceof LastHttpContent) {
          bodies.add(body.toString());
          body.setLength(0);
        }
      } finally {
        ReferenceCountUtil.release(m);
      }
    }
    assertThat(methods).hasSizeGreaterThanOrEqualTo(requests.size());
    return new Decoded(requests, bodies, refusal);
  }

  static Decoded decode(String input) {
    var whole = decode(input, Integer.MAX_VALUE);
    // Byte by byte gives the same answer: no state is lost between reads.
    assertThat(decode(input, 1)).isEqualTo(whole);
    return whole;
  }

  @Test
  void readsAGetAndItsFields() {
    var d = decode("GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A: \t v w  \r\n\r\n");
    assertThat(d.refusal()).isZero();
    assertThat(d.requests()).containsExactly("GET /a?b=c HTTP/1.1 [host=x, X-A=v w]");
    assertThat(d.bodies()).containsExactly("");
  }

  @Test
  void readsFixedAndChunkedBodiesAndPipelinedRequests() {
    var d =
        decode(
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                + "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;ext=1\r\nabc\r\n2 ; e\r\nde\r\n0\r\nT: v\r\n\r\n"
                + "\r\nGET /c HTTP/1.0\r\n\r\n");
    assertThat(d.refusal()).isZero();
    assertThat(d.requests()).hasSize(3);
    assertThat(d.bodies()).containsExactly("hello", "abcde", "");
  }

  @Test
  void bareLfEndsLinesAsNginxReadsThem() {
    var d = decode("GET / HTTP/1.1\nHost: x\n\n");
    assertThat(d.refusal()).isZero();
    assertThat(d.requests()).hasSize(1);
  }

  @Test
  void rawNonAsciiBytesInTheTargetAreReadAsTheyCame() {
    var d = decode("GET /caf\u00e9 HTTP/1.1\r\nHost: x\r\nX-A: \u00ff\r\n\r\n");
    assertThat(d.refusal()).isZero();
    assertThat(d.requests()).containsExactly("GET /caf\u00e9 HTTP/1.1 [host=x, X-A=\u00ff]");
  }

  @Test
  void aMinorVersionAboveOneIsHttp11() {
    var d = decode("GET / HTTP/1.2\r\nHost: x\r\n\r\n");
    assertThat(d.requests()).containsExactly("GET / HTTP/1.1 [host=x]");
  }

  @Test
  void connectionDropsTheFieldsItNamesBeforeAnyoneSeesThem() {
    var d =
        decode("GET / HTTP/1.1\r\nHost: x\r\nX-Secret: 1\r\nConnection: x-secret, close\r\n\r\n");
    assertThat(d.requests()).containsExactly("GET / HTTP/1.1 [host=x, connection=close]");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          Connection: Content-Length           | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 3\\r\\nConnection: Content-Length\\r\\n\\r\\nabc   | 400
          Connection: Transfer-Encoding        | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nConnection: keep-alive, Transfer-Encoding\\r\\n\\r\\n0\\r\\n\\r\\n | 400
          Connection: Host                     | GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: host\\r\\n\\r\\n | 400
          xchunked                             | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: xchunked\\r\\n\\r\\n | 501
          chunked;q=1                          | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked;q=1\\r\\n\\r\\n | 501
          quoted chunked                       | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: "chunked"\\r\\n\\r\\n | 501
          chunked, identity                    | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked, identity\\r\\n\\r\\n | 400
          gzip, chunked                        | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n | 501
          chunked twice                        | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | 400
          TE and CL                            | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n | 400
          TE in HTTP/1.0                       | POST / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n | 400
          two Content-Lengths                  | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1\\r\\nContent-Length: 1\\r\\n\\r\\na | 400
          a Content-Length list                | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1, 1\\r\\n\\r\\na | 400
          a signed Content-Length              | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: +1\\r\\n\\r\\na | 400
          a huge Content-Length                | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 99999999999999999999\\r\\n\\r\\na | 400
          chunk size overflow                  | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nffffffffffffffffff1\\r\\na\\r\\n0\\r\\n\\r\\n | 400
          bad chunk CRLF                       | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhelloXX0\\r\\n\\r\\n | 400
          chunk size with junk                 | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5x\\r\\nhello\\r\\n0\\r\\n\\r\\n | 400
          empty chunk size                     | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n\\r\\n | 400
          obs-fold                             | GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: 1\\r\\n 2\\r\\n\\r\\n | 400
          tab in the request line              | GET\\t/ HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          two spaces in the request line       | GET  / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          lowercase method                     | get / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          HTTP/2.0                             | GET / HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n | 505
          lowercase version                    | GET / http/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          HTTP/0.9                             | GET /\\r\\n\\r\\n | 400
          no Host                              | GET / HTTP/1.1\\r\\n\\r\\n | 400
          two Hosts                            | GET / HTTP/1.1\\r\\nHost: x\\r\\nHost: y\\r\\n\\r\\n | 400
          Host with a path                     | GET / HTTP/1.1\\r\\nHost: x/y\\r\\n\\r\\n | 400
          Host with userinfo                   | GET / HTTP/1.1\\r\\nHost: a@b\\r\\n\\r\\n | 400
          space before the colon               | GET / HTTP/1.1\\r\\nHost : x\\r\\n\\r\\n | 400
          no colon                             | GET / HTTP/1.1\\r\\nHost: x\\r\\nfoo\\r\\n\\r\\n | 400
          NUL in a value                       | GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\u0000b\\r\\n\\r\\n | 400
          bare CR in a value                   | GET / HTTP/1.1\\r\\nHost: x\\r\\nX-A: a\\rb\\r\\n\\r\\n | 400
          NUL in the target                    | GET /a\\u0000b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          0x01 in the target                   | GET /a\\u0001b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          DEL in the target                    | GET /a\\u007fb HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 400
          upgrade with a body                  | GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: Upgrade\\r\\nUpgrade: websocket\\r\\nContent-Length: 2\\r\\n\\r\\nhi | 400
          chunked and a tab                    | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\t\\r\\n\\r\\n | 501
          chunked and a comma                  | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked,\\r\\n\\r\\n | 400
          a second, empty TE                   | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nTransfer-Encoding:\\r\\n\\r\\n | 400
          a length and a tab                   | POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\t\\r\\n\\r\\nhello | 400
          an empty Host                        | GET / HTTP/1.1\\r\\nHost:\\r\\n\\r\\n | 400
          a Host of two dots                   | GET / HTTP/1.1\\r\\nHost: ..\\r\\n\\r\\n | 400
          TRACE                                | TRACE / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n | 405
          CONNECT                              | CONNECT x:443 HTTP/1.1\\r\\nHost: x:443\\r\\n\\r\\n | 405
          an unknown expectation               | GET / HTTP/1.1\\r\\nHost: x\\r\\nExpect: 200-ok\\r\\n\\r\\n | 417
          bad chunk trailer                    | POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n T: v\\r\\n\\r\\n | 400
          """)
  void refuses(String name, String request, int status) {
    var d = decode(unescape(request));
    assertThat(d.refusal()).as(name).isEqualTo(status);
  }

  @Test
  void nothingAfterARefusalIsRead() {
    var d =
        decode(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: Content-Length\r\nContent-Length: 0\r\n\r\n"
                + "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(d.refusal()).isEqualTo(400);
    assertThat(d.requests()).isEmpty();
  }

  @Test
  void aBodyBrokenMidwayEndsWithAFailedLastContent() {
    var d =
        decode(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\nzz\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(d.requests()).hasSize(1);
    assertThat(d.refusal()).isEqualTo(400);
  }

  @Test
  void limits() {
    assertThat(decode("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n").refusal())
        .isEqualTo(414);
    assertThat(
            decode("GET / HTTP/1.1\r\nHost: x\r\nX: " + "a".repeat(17000) + "\r\n\r\n").refusal())
        .isEqualTo(431);
    assertThat(decode("GET / HTTP/1.1\r\nHost: x\r\n" + "X: 1\r\n".repeat(300) + "\r\n").refusal())
        .isEqualTo(431);
  }

  @Test
  void hostForms() {
    for (var ok : new String[] {"a.b", "a.b:80", "[::1]", "[::1]:8080", "1.2.3.4:1"}) {
      assertThat(RequestFraming.validAuthority(ok)).as(ok).isTrue();
    }
    for (var bad : new String[] {"a b", "a:b", "[::1", "a:123456", "a/b", "a\\b", "[zz]", "a@b"}) {
      assertThat(RequestFraming.validAuthority(bad)).as(bad).isFalse();
    }
  }

  @Test
  void http10WithoutHost() {
    var d = decode("GET / HTTP/1.0\r\n\r\n");
    assertThat(d.refusal()).isZero();
    assertThat(d.requests()).containsExactly("GET / HTTP/1.0 []");
    assertThat(HttpVersion.HTTP_1_0.text()).isEqualTo("HTTP/1.0");
  }

  static String unescape(String s) {
    var out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        switch (n) {
          case 'r' -> out.append('\r');
          case 'n' -> out.append('\n');
          case 't' -> out.append('\t');
          case 'u' -> {
            out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
            i += 4;
          }
          default -> out.append('\\').append(n);
        }
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
