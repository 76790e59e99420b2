package io.archway.dataplane.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.testing.Pki;
import io.archway.model.Pems;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import org.junit.jupiter.api.Test;

/** Keys in the three PEM forms tools write, certificate chains, and the errors for bad ones. */
class PemsTest {

  @Test
  void keysInEveryFormMatchTheirCertificates() throws Exception {
    var ca = Pki.authority("CA");
    for (boolean rsa : new boolean[] {true, false}) {
      var b = Pki.server(ca, rsa, "x.test");
      var cert = Pems.certificates(Pki.chainPem(b)).get(0);
      for (var pem : new String[] {Pki.keyPem(b), Pki.traditionalKeyPem(b)}) {
        var key = Pems.privateKey(pem);
        assertThat(key.getAlgorithm()).isEqualTo(rsa ? "RSA" : "EC");
        Pems.checkPair(cert, key);
      }
    }
  }

  @Test
  void aChainKeepsItsOrder() throws Exception {
    var ca = Pki.authority("CA");
    var middle = Pki.intermediate(ca, "Middle");
    var leaf = Pki.server(middle, false, "x.test");
    var chain = Pems.certificates(Pki.chainPem(leaf));
    assertThat(chain).hasSize(2);
    assertThat(chain.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=x.test");
    assertThat(chain.get(1).getSubjectX500Principal().getName()).isEqualTo("CN=Middle");
  }

  @Test
  void badInputIsNamedWithoutQuotingKeys() throws Exception {
    var ca = Pki.authority("CA");
    var a = Pki.server(ca, false, "a.test");
    var b = Pki.server(ca, false, "b.test");
    var rsa = Pki.server(ca, true, "r.test");
    var cert = Pems.certificates(Pki.chainPem(a)).get(0);
    assertThatThrownBy(() -> Pems.checkPair(cert, Pems.privateKey(Pki.keyPem(b))))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessage("certificate and key do not match");
    assertThatThrownBy(() -> Pems.checkPair(cert, Pems.privateKey(Pki.keyPem(rsa))))
        .hasMessage("key is RSA, certificate is EC (expected: the certificate's key)");
    assertThatThrownBy(
            () ->
                Pems.privateKey(
                    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"))
        .hasMessageStartingWith("encrypted private key");
    assertThatThrownBy(
            () ->
                Pems.privateKey("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----"))
        .hasMessage("malformed PEM private key (PRIVATE KEY)");
    assertThatThrownBy(() -> Pems.privateKey("hello")).hasMessage("no PEM private key found");
    assertThatThrownBy(
            () ->
                Pems.certificates(
                    "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----"))
        .isInstanceOf(CertificateException.class)
        .hasMessage("malformed PEM certificate");
  }
}
