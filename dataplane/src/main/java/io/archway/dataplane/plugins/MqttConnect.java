package io.archway.dataplane.plugins;

import io.netty.buffer.ByteBuf;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The start of an MQTT CONNECT packet (3.1, 3.1.1 and 5.0), read from the bytes a client sent
 * first, up to the client identifier: protocol name, protocol level, client id. Strict: the first
 * packet must be a CONNECT with its reserved bits clear, lengths must stay inside the packet, the
 * strings must be well-formed UTF-8; anything else is {@link #MALFORMED}, never a guess.
 */
record MqttConnect(String protocolName, int protocolLevel, String clientId) {

  /** Not a CONNECT, or a broken one: the connection is closed. */
  static final MqttConnect MALFORMED = new MqttConnect(null, -1, null);

  /** What is there so far ends before the client id: read more. */
  static final MqttConnect MORE = new MqttConnect(null, -2, null);

  boolean malformed() {
    return this == MALFORMED;
  }

  boolean more() {
    return this == MORE;
  }

  /** Reads {@code in} from its reader index without moving it. */
  static MqttConnect parse(ByteBuf in) {
    var r = new Reader(in);
    try {
      int first = r.u8();
      if (first != 0x10) { // CONNECT, flags 0 (MQTT 3.1.1 §3.1.1, 5.0 §3.1.1)
        return MALFORMED;
      }
      long remaining = r.varint();
      r.limit = r.pos + remaining;
      var name = r.string();
      int level = r.u8();
      int flags = r.u8();
      if ((flags & 0x01) != 0) { // reserved
        return MALFORMED;
      }
      r.skip(2); // keep alive
      if (level == 5) {
        r.skip(r.varint()); // properties
      }
      var clientId = r.string();
      return new MqttConnect(name, level, clientId);
    } catch (Truncated e) {
      // Ran past what was read: more is needed unless the packet itself was all there.
      return r.limit != Long.MAX_VALUE && r.limit <= in.readableBytes() ? MALFORMED : MORE;
    } catch (Bad e) {
      return MALFORMED;
    }
  }

  private static final class Truncated extends Exception {
    Truncated() {
      super(null, null, false, false);
    }
  }

  private static final class Bad extends Exception {
    Bad() {
      super(null, null, false, false);
    }
  }

  private static final class Reader {
    final ByteBuf in;
    final int base;
    long pos;
    long limit = Long.MAX_VALUE; // the packet's end, once its length is read

    Reader(ByteBuf in) {
      this.in = in;
      this.base = in.readerIndex();
    }

    void need(long n) throws Truncated, Bad {
      if (pos + n > limit) {
        throw new Bad(); // a field longer than the packet says it is
      }
      if (pos + n > in.readableBytes()) {
        throw new Truncated();
      }
    }

    int u8() throws Truncated, Bad {
      need(1);
      return in.getUnsignedByte(base + (int) pos++);
    }

    /** MQTT's variable byte integer: at most four bytes. */
    long varint() throws Truncated, Bad {
      long value = 0;
      for (int i = 0; i < 4; i++) {
        int b = u8();
        value |= (long) (b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
          return value;
        }
      }
      throw new Bad();
    }

    void skip(long n) throws Truncated, Bad {
      need(n);
      pos += n;
    }

    String string() throws Truncated, Bad {
      need(2);
      int len = in.getUnsignedShort(base + (int) pos);
      pos += 2;
      need(len);
      var bytes = new byte[len];
      in.getBytes(base + (int) pos, bytes);
      pos += len;
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        throw new Bad();
      }
    }
  }
}
