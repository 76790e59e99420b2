package io.archway.dataplane.tls;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * What the certificate choice needs from a ClientHello (RFC 8446 4.1.2): the server name (SNI) and
 * whether the client's signature algorithms take an ECDSA and/or an RSA certificate.
 *
 * @param serverName the host name asked for, or {@code null}
 * @param ecdsa the client offers an ECDSA signature scheme
 * @param rsa the client offers an RSA scheme (PKCS#1 or PSS), or says nothing (TLS 1.2's default)
 */
public record ClientHello(String serverName, boolean ecdsa, boolean rsa) {

  private static final int SERVER_NAME = 0;
  private static final int SIGNATURE_ALGORITHMS = 13;

  /** Reads the ClientHello body Netty hands over (from client_version on); nothing is consumed. */
  public static ClientHello parse(ByteBuf in) {
    String name = null;
    boolean ecdsa = false;
    boolean rsa = true;
    int at = in.readerIndex() + 34; // client_version, random
    int end = in.writerIndex();
    if (end - at < 6) {
      return new ClientHello(null, false, true);
    }
    at += 1 + in.getUnsignedByte(at); // session_id
    if (at + 2 > end) {
      return new ClientHello(null, false, true);
    }
    at += 2 + in.getUnsignedShort(at); // cipher_suites
    if (at + 1 > end) {
      return new ClientHello(null, false, true);
    }
    at += 1 + in.getUnsignedByte(at); // compression_methods
    if (at + 2 > end) {
      return new ClientHello(null, false, true);
    }
    int limit = Math.min(end, at + 2 + in.getUnsignedShort(at));
    at += 2;
    while (limit - at >= 4) {
      int type = in.getUnsignedShort(at);
      int length = in.getUnsignedShort(at + 2);
      at += 4;
      if (limit - at < length) {
        break;
      }
      if (type == SERVER_NAME && length >= 5) {
        // server_name_list: a length, then entries of type (0: host_name), length, name.
        int p = at + 2;
        if (in.getUnsignedByte(p) == 0) {
          int n = in.getUnsignedShort(p + 1);
          if (p + 3 + n <= at + length) {
            name = in.toString(p + 3, n, StandardCharsets.US_ASCII);
          }
        }
      } else if (type == SIGNATURE_ALGORITHMS && length >= 2) {
        rsa = false;
        int n = in.getUnsignedShort(at);
        for (int p = at + 2; p + 1 < at + 2 + n && p + 1 < at + length; p += 2) {
          int hash = in.getUnsignedByte(p);
          int sig = in.getUnsignedByte(p + 1);
          if (sig == 3) {
            ecdsa = true; // ecdsa_* (0x0403, 0x0503, 0x0603, 0x0203)
          } else if (sig == 1 || hash == 8 && (sig >= 4 && sig <= 6 || sig >= 9 && sig <= 11)) {
            rsa = true; // rsa_pkcs1_* and rsa_pss_*
          }
        }
      }
      at += length;
    }
    return new ClientHello(name, ecdsa, rsa);
  }
}
