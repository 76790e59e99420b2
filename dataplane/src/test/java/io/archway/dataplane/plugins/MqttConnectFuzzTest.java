package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * mqtt-proxy's CONNECT parser on what a client may send first: random bytes never throw and never
 * move the buffer; every prefix of a valid CONNECT (3.1.1 or 5.0 with properties) asks for more
 * until the client id is whole, then gives it exactly; broken packets are malformed, never a guess.
 * See docs/fuzzing.md.
 */
class MqttConnectFuzzTest {

  @Property
  void randomBytesNeverThrow(@ForAll("noise") byte[] input) {
    var buf = Unpooled.wrappedBuffer(input);
    var r = MqttConnect.parse(buf);
    assertThat(buf.readerIndex()).isZero();
    assertThat(r.more() || r.malformed() || r.clientId() != null).isTrue();
  }

  @Property
  void everyPrefixOfAValidConnectAsksForMoreThenGivesTheClientId(@ForAll("seeds") long seed) {
    var rnd = new Random(seed);
    int level = rnd.nextBoolean() ? 4 : 5;
    var id = randomId(rnd);
    var packet = connect("MQTT", level, id, level == 5 ? rnd.nextInt(0, 300) : 0);
    for (int n = 0; n < packet.length; n++) { // the client id ends the packet
      var r = MqttConnect.parse(Unpooled.wrappedBuffer(packet, 0, n));
      assertThat(r.more()).as("prefix of %d bytes of %d", n, packet.length).isTrue();
    }
    var whole = MqttConnect.parse(Unpooled.wrappedBuffer(packet));
    assertThat(whole).isEqualTo(new MqttConnect("MQTT", level, id));
  }

  @Example
  void mqtt31IsReadWithItsOwnName() {
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(connect("MQIsdp", 3, "old", 0))))
        .isEqualTo(new MqttConnect("MQIsdp", 3, "old"));
  }

  @Example
  void brokenPacketsAreMalformed() {
    var good = connect("MQTT", 4, "c", 0);
    var reserved = good.clone();
    reserved[9] |= 0x01; // connect flags' reserved bit
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(reserved)).malformed()).isTrue();
    var notConnect = good.clone();
    notConnect[0] = 0x30; // PUBLISH first
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(notConnect)).malformed()).isTrue();
    var flags = good.clone();
    flags[0] = 0x11; // CONNECT's fixed-header flags must be 0
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(flags)).malformed()).isTrue();
    // A remaining length of five bytes.
    var longLength = new byte[] {0x10, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(longLength)).malformed()).isTrue();
    // A client id longer than the packet says it is.
    var tooLong = new byte[] {0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 9};
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(tooLong)).malformed()).isTrue();
    // Not UTF-8.
    var badUtf8 = connect("MQTT", 4, "x", 0);
    badUtf8[badUtf8.length - 1] = (byte) 0xc3;
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(badUtf8)).malformed()).isTrue();
  }

  @Example
  void anEmptyClientIdIsReadAsEmpty() {
    assertThat(MqttConnect.parse(Unpooled.wrappedBuffer(connect("MQTT", 4, "", 0))).clientId())
        .isEmpty();
  }

  @Provide
  Arbitrary<byte[]> noise() {
    var anything = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
    var connectLike =
        Arbitraries.bytes()
            .array(byte[].class)
            .ofMaxSize(64)
            .map(
                b -> {
                  if (b.length > 0) {
                    b[0] = 0x10;
                  }
                  return b;
                });
    return Arbitraries.oneOf(anything, connectLike);
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }

  private static String randomId(Random rnd) {
    var sb = new StringBuilder();
    int n = rnd.nextInt(0, 40);
    for (int i = 0; i < n; i++) {
      sb.append(rnd.nextInt(4) == 0 ? "é" : Character.toString('a' + rnd.nextInt(26)));
    }
    return sb.toString();
  }

  /** A CONNECT ending with its client id (no will, no user name): level 5 with properties. */
  static byte[] connect(String protocol, int level, String clientId, int propertyBytes) {
    var body = new ByteArrayOutputStream();
    string(body, protocol);
    body.write(level);
    body.write(0x02);
    body.write(0);
    body.write(60);
    if (level == 5) {
      varint(body, propertyBytes);
      for (int i = 0; i < propertyBytes; i++) {
        body.write(0x11); // any bytes: they are skipped by length
      }
    }
    string(body, clientId);
    var out = new ByteArrayOutputStream();
    out.write(0x10);
    varint(out, body.size());
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, int len) {
    do {
      int digit = len % 128;
      len /= 128;
      out.write(len > 0 ? digit | 0x80 : digit);
    } while (len > 0);
  }

  private static void string(ByteArrayOutputStream out, String s) {
    var bytes = s.getBytes(StandardCharsets.UTF_8);
    out.write(bytes.length >> 8);
    out.write(bytes.length & 0xff);
    out.writeBytes(bytes);
  }
}
