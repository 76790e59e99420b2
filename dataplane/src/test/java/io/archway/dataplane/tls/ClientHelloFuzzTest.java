package io.archway.dataplane.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.testing.Fuzz;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes {@link ClientHello#parse} (the first bytes a TLS client sends, read before any certificate
 * is chosen): random bytes, mutated ClientHellos from the JDK's own TLS client, and ClientHellos
 * built here with random extensions, whose server name and signature schemes must come out as
 * written. See docs/fuzzing.md.
 */
class ClientHelloFuzzTest {

  /** ClientHello bodies (from client_version on) written by the JDK's client, for mutation. */
  private static final List<byte[]> REAL = new ArrayList<>();

  static {
    try {
      REAL.add(jdkClientHello("example.com", "TLSv1.3"));
      REAL.add(jdkClientHello("a.b.example.org", "TLSv1.2"));
      REAL.add(jdkClientHello(null, "TLSv1.3"));
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @Property
  void randomBytes(@ForAll("noise") byte[] input) {
    parse(input);
  }

  @Property
  void mutatedRealClientHellos(@ForAll("mutatedReal") byte[] input) {
    parse(input);
  }

  @Property
  void builtClientHellosReadAsWritten(@ForAll("seeds") long seed) {
    var r = new Random(seed);
    var built = new Built(r);
    var hello = parse(built.bytes);
    assertThat(hello.serverName()).isEqualTo(built.serverName);
    assertThat(hello.ecdsa()).isEqualTo(built.ecdsa);
    assertThat(hello.rsa()).isEqualTo(built.rsa);
  }

  @Property
  void mutatedBuiltClientHellos(@ForAll("mutatedBuilt") byte[] input) {
    parse(input);
  }

  @Example
  void theJdkClientsServerNameIsRead() {
    assertThat(parse(REAL.get(0)).serverName()).isEqualTo("example.com");
    assertThat(parse(REAL.get(1)).serverName()).isEqualTo("a.b.example.org");
    assertThat(parse(REAL.get(2)).serverName()).isNull();
  }

  /** Parses from a buffer with bytes before and after, which must not be read or consumed. */
  private static ClientHello parse(byte[] body) {
    ByteBuf buf = Unpooled.buffer(body.length + 8);
    buf.writeBytes(new byte[] {1, 2, 3});
    buf.writeBytes(body);
    buf.readerIndex(3);
    int reader = buf.readerIndex();
    var hello = ClientHello.parse(buf.slice(reader, body.length));
    assertThat(buf.readerIndex()).isEqualTo(reader);
    if (hello.serverName() != null) {
      assertThat(hello.serverName().length()).isLessThanOrEqualTo(body.length);
    }
    return hello;
  }

  /** A ClientHello of random contents, and what the parser must find in it. */
  private static final class Built {
    final byte[] bytes;
    String serverName;
    boolean ecdsa;
    boolean rsa = true;

    Built(Random r) {
      var out = new ByteArrayOutputStream();
      out.write(3);
      out.write(3);
      out.writeBytes(random(r, 32));
      var session = random(r, r.nextBoolean() ? 0 : 32);
      out.write(session.length);
      out.writeBytes(session);
      var suites = random(r, 2 * r.nextInt(1, 40));
      u16(out, suites.length);
      out.writeBytes(suites);
      out.write(1);
      out.write(0);
      var extensions = new ByteArrayOutputStream();
      boolean sawName = false;
      boolean sawSigs = false;
      for (int i = r.nextInt(0, 8); i > 0; i--) {
        int kind = r.nextInt(4);
        if (kind == 0 && !sawName) {
          sawName = true;
          serverName = name(r);
          var n = serverName.getBytes(StandardCharsets.US_ASCII);
          u16(extensions, 0);
          u16(extensions, n.length + 5);
          u16(extensions, n.length + 3);
          extensions.write(0);
          u16(extensions, n.length);
          extensions.writeBytes(n);
        } else if (kind == 1 && !sawSigs) {
          sawSigs = true;
          rsa = false;
          int count = r.nextInt(1, 12);
          u16(extensions, 13);
          u16(extensions, 2 + 2 * count);
          u16(extensions, 2 * count);
          for (int k = 0; k < count; k++) {
            int hash = r.nextInt(2) == 0 ? 8 : r.nextInt(1, 7);
            int sig = r.nextInt(0, 12);
            extensions.write(hash);
            extensions.write(sig);
            ecdsa |= sig == 3;
            rsa |= sig == 1 || hash == 8 && (sig >= 4 && sig <= 6 || sig >= 9 && sig <= 11);
          }
        } else {
          // Another extension (supported_groups, key_share, GREASE, ...): skipped by length.
          int type = r.nextInt(2) == 0 ? 0x0a0a : r.nextInt(14, 65536);
          var data = random(r, r.nextInt(0, 40));
          u16(extensions, type);
          u16(extensions, data.length);
          extensions.writeBytes(data);
        }
      }
      u16(out, extensions.size());
      out.writeBytes(extensions.toByteArray());
      bytes = out.toByteArray();
    }

    private static String name(Random r) {
      var labels = new ArrayList<String>();
      for (int i = r.nextInt(1, 4); i > 0; i--) {
        var s = new StringBuilder();
        for (int k = r.nextInt(1, 12); k > 0; k--) {
          s.append((char) ('a' + r.nextInt(26)));
        }
        labels.add(s.toString());
      }
      return String.join(".", labels);
    }
  }

  private static byte[] random(Random r, int n) {
    var b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  private static void u16(ByteArrayOutputStream out, int v) {
    out.write(v >> 8);
    out.write(v & 0xff);
  }

  /**
   * The body of the ClientHello the JDK's client writes first (record and handshake headers cut).
   */
  private static byte[] jdkClientHello(String serverName, String protocol) throws Exception {
    var context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine(serverName, 443);
    engine.setUseClientMode(true);
    var params = engine.getSSLParameters();
    params.setProtocols(new String[] {protocol});
    params.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
    engine.setSSLParameters(params);
    var out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    if (out.get(0) != 22 || out.get(5) != 1) {
      throw new SSLException("not a ClientHello record");
    }
    int length = ((out.get(6) & 0xff) << 16) | ((out.get(7) & 0xff) << 8) | (out.get(8) & 0xff);
    var body = new byte[length];
    out.position(9);
    out.get(body);
    return body;
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Fuzz.bytes(400);
  }

  @Provide
  Arbitrary<byte[]> mutatedReal() {
    return Fuzz.mutated(Arbitraries.of(REAL), 8);
  }

  @Provide
  Arbitrary<byte[]> mutatedBuilt() {
    return Fuzz.mutated(Arbitraries.longs().map(s -> new Built(new Random(s)).bytes), 8);
  }
}
