package io.archway.model.dns;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * One decoded DNS answer: an address (A, AAAA) or an SRV record's priority, weight, port and
 * target; {@code ttl} in seconds.
 */
record Answer(String address, long ttl, int priority, int weight, int port, String target) {

  /** The answer in {@code raw}, or {@code null} when its content does not fit its type. */
  static Answer decode(DnsRawRecord raw, DnsRecordType type) throws UnknownHostException {
    ByteBuf c = raw.content();
    int at = c.readerIndex();
    if (type == DnsRecordType.A || type == DnsRecordType.AAAA) {
      int len = type == DnsRecordType.A ? 4 : 16;
      if (c.readableBytes() != len) {
        return null;
      }
      var bytes = new byte[len];
      c.getBytes(at, bytes);
      return new Answer(
          InetAddress.getByAddress(bytes).getHostAddress(), raw.timeToLive(), 0, 0, 0, null);
    }
    if (c.readableBytes() < 7) {
      return null;
    }
    int priority = c.getUnsignedShort(at);
    int weight = c.getUnsignedShort(at + 2);
    int port = c.getUnsignedShort(at + 4);
    // The content shares the whole message: a compressed target name points into it.
    var target = DefaultDnsRecordDecoder.decodeName(c.duplicate().readerIndex(at + 6));
    if (target.endsWith(".")) {
      target = target.substring(0, target.length() - 1);
    }
    return new Answer(null, raw.timeToLive(), priority, weight, port, target);
  }
}
