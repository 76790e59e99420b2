package io.archway.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Certificates and private keys from PEM text, as Kubernetes {@code kubernetes.io/tls} Secrets and
 * APISIX's {@code ssls} objects hold them. Keys come in the three forms tools write: PKCS#8 ({@code
 * BEGIN PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}, cert-manager's default) and SEC1
 * EC ({@code BEGIN EC PRIVATE KEY}, openssl's); the last two are rewrapped as PKCS#8 for the JDK.
 * Errors say what is wrong without ever quoting key material.
 */
public final class Pems {

  private Pems() {}

  /** Every certificate in {@code pem}, leaf first; at least one. */
  public static List<X509Certificate> certificates(String pem) throws CertificateException {
    var factory = CertificateFactory.getInstance("X.509");
    var out = new ArrayList<X509Certificate>();
    try {
      for (var c :
          factory.generateCertificates(
              new ByteArrayInputStream(pem.strip().getBytes(StandardCharsets.US_ASCII)))) {
        out.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new CertificateException("malformed PEM certificate");
    }
    if (out.isEmpty()) {
      throw new CertificateException("no certificate in the PEM text");
    }
    return out;
  }

  /**
   * The JDK's PKIX trust manager for {@code authorities} ({@code null}: the JVM's own), for trust
   * managers that check more on top of it.
   */
  public static javax.net.ssl.X509ExtendedTrustManager trustManager(
      List<X509Certificate> authorities) throws GeneralSecurityException {
    var pkix =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    if (authorities == null) {
      pkix.init((java.security.KeyStore) null);
    } else {
      var store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
      try {
        store.load(null, null);
      } catch (java.io.IOException e) {
        throw new GeneralSecurityException(e);
      }
      for (int i = 0; i < authorities.size(); i++) {
        store.setCertificateEntry("ca" + i, authorities.get(i));
      }
      pkix.init(store);
    }
    for (var m : pkix.getTrustManagers()) {
      if (m instanceof javax.net.ssl.X509ExtendedTrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }

  /** The first private key in {@code pem}. */
  public static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    if (pem.contains("ENCRYPTED")) {
      throw new GeneralSecurityException(
          "encrypted private key (expected: an unencrypted PEM key; Secrets hold keys in clear)");
    }
    for (var kind : new String[] {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}) {
      byte[] der = block(pem, kind);
      if (der == null) {
        continue;
      }
      try {
        return switch (kind) {
          case "RSA PRIVATE KEY" -> generate("RSA", pkcs8(RSA_ALGORITHM, der));
          case "EC PRIVATE KEY" -> generate("EC", pkcs8(ecAlgorithm(der), der));
          default -> pkcs8(der);
        };
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new GeneralSecurityException("malformed PEM private key (" + kind + ")", e);
      }
    }
    throw new GeneralSecurityException("no PEM private key found");
  }

  /** Fails unless {@code key} is the private half of the leaf certificate's public key. */
  public static void checkPair(X509Certificate cert, PrivateKey key)
      throws GeneralSecurityException {
    var publicKey = cert.getPublicKey();
    if (!publicKey.getAlgorithm().equals(key.getAlgorithm())) {
      throw new GeneralSecurityException(
          "key is "
              + key.getAlgorithm()
              + ", certificate is "
              + publicKey.getAlgorithm()
              + " (expected: the certificate's key)");
    }
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "EdDSA", "Ed25519" -> "Ed25519";
          default -> throw new GeneralSecurityException("unsupported key " + key.getAlgorithm());
        };
    byte[] probe = "archway key pair check".getBytes(StandardCharsets.US_ASCII);
    var sign = Signature.getInstance(algorithm);
    sign.initSign(key);
    sign.update(probe);
    byte[] signature = sign.sign();
    var verify = Signature.getInstance(algorithm);
    verify.initVerify(publicKey);
    verify.update(probe);
    if (!verify.verify(signature)) {
      throw new GeneralSecurityException("certificate and key do not match");
    }
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    for (var algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return generate(algorithm, der);
      } catch (GeneralSecurityException e) {
        // the next algorithm
      }
    }
    throw new GeneralSecurityException("not an RSA, EC or Ed25519 key");
  }

  private static PrivateKey generate(String algorithm, byte[] pkcs8)
      throws GeneralSecurityException {
    return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
  }

  /** The DER bytes of the first {@code -----BEGIN kind-----} block, or {@code null}. */
  private static byte[] block(String pem, String kind) {
    var begin = "-----BEGIN " + kind + "-----";
    int start = pem.indexOf(begin);
    if (start < 0) {
      return null;
    }
    int end = pem.indexOf("-----END " + kind + "-----", start);
    if (end < 0) {
      return null;
    }
    var body = pem.substring(start + begin.length(), end).replaceAll("\\s", "");
    try {
      return Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      return new byte[0];
    }
  }

  // rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters.
  private static final byte[] RSA_ALGORITHM =
      der(0x30, concat(oid("2A864886F70D010101"), new byte[] {0x05, 0x00}));
  // id-ecPublicKey (1.2.840.10045.2.1).
  private static final byte[] EC_PUBLIC_KEY = oid("2A8648CE3D0201");

  /** PrivateKeyInfo: version 0, the algorithm, the key as an octet string. */
  private static byte[] pkcs8(byte[] algorithm, byte[] key) {
    return der(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, der(0x04, key)));
  }

  /**
   * The algorithm of a SEC1 key: id-ecPublicKey with the curve from its [0] parameters, or, where a
   * writer left those out (they live in PKCS#8's algorithm then), the NIST curve of its size.
   */
  private static byte[] ecAlgorithm(byte[] sec1) {
    var seq = Der.read(sec1, 0);
    int p = seq.contentStart();
    int privateKeyLength = 0;
    while (p < seq.end()) {
      var item = Der.read(sec1, p);
      if (item.tag() == 0x04) {
        privateKeyLength = item.end() - item.contentStart();
      } else if (item.tag() == 0xA0) { // [0] ECParameters: the named curve's OID
        return der(
            0x30, concat(EC_PUBLIC_KEY, Arrays.copyOfRange(sec1, item.contentStart(), item.end())));
      }
      p = item.end();
    }
    var curve =
        switch (privateKeyLength) {
          case 32 -> "2A8648CE3D030107"; // secp256r1
          case 48 -> "2B81040022"; // secp384r1
          case 65, 66 -> "2B81040023"; // secp521r1
          default -> throw new IllegalArgumentException("no named curve in the EC key");
        };
    return der(0x30, concat(EC_PUBLIC_KEY, oid(curve)));
  }

  private static byte[] oid(String hex) {
    return der(0x06, HexFormat.of().parseHex(hex));
  }

  private static byte[] der(int tag, byte[] content) {
    var out = new ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    var out = new ByteArrayOutputStream();
    for (var p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** Just enough DER reading to find a SEC1 key's curve. */
  private record Der(int tag, int contentStart, int end) {
    static Der read(byte[] b, int at) {
      int tag = b[at] & 0xFF;
      int len = b[at + 1] & 0xFF;
      int header = 2;
      if (len >= 0x80) {
        int count = len & 0x7F;
        if (count < 1 || count > 3) {
          throw new IllegalArgumentException("DER length");
        }
        len = 0;
        for (int i = 0; i < count; i++) {
          len = len << 8 | b[at + 2 + i] & 0xFF;
        }
        header += count;
      }
      int end = at + header + len;
      if (end > b.length) {
        throw new IllegalArgumentException("DER length");
      }
      return new Der(tag, at + header, end);
    }
  }
}
