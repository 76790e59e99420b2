package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** openid-connect's schema, JWT checks and session cookie, without a provider. */
class OpenidConnectTest {

  static final String ISS = "https://idp.example/realms/a";
  static final KeyPair RSA = pair("RSA", null);
  static final KeyPair EC = pair("EC", "secp256r1");

  static KeyPair pair(String type, String curve) {
    try {
      var g = KeyPairGenerator.getInstance(type);
      if (curve != null) {
        g.initialize(new ECGenParameterSpec(curve));
      } else {
        g.initialize(2048);
      }
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String sign(String alg, String kid, PrivateKey key, String claims) throws Exception {
    var header =
        "{\"alg\":\""
            + alg
            + "\",\"typ\":\"JWT\""
            + (kid == null ? "" : ",\"kid\":\"" + kid + "\"")
            + "}";
    var input =
        b64(header.getBytes(StandardCharsets.UTF_8))
            + "."
            + b64(claims.getBytes(StandardCharsets.UTF_8));
    var sig =
        Signature.getInstance(
            alg.startsWith("ES") ? "SHA256withECDSAinP1363Format" : "SHA256withRSA");
    sig.initSign(key);
    sig.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + b64(sig.sign());
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static String claims(String iss, String aud, long exp) {
    return "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u\",\"exp\":%d,\"nbf\":%d}"
        .formatted(iss, aud, exp, now() - 10);
  }

  static boolean valid(String token, java.security.PublicKey key) {
    var t = OidcJwt.parse(token);
    return OidcJwt.verify(t, List.of(key))
        && OidcJwt.checkClaims(t.claims(), now(), 0, List.of(ISS), "client") == null;
  }

  @Test
  void rs256AndEs256TokensVerifyWithTheirKeys() throws Exception {
    var rs = sign("RS256", "k1", RSA.getPrivate(), claims(ISS, "client", now() + 60));
    var es = sign("ES256", "k2", EC.getPrivate(), claims(ISS, "client", now() + 60));
    assertThat(valid(rs, RSA.getPublic())).isTrue();
    assertThat(valid(es, EC.getPublic())).isTrue();
    // Each with the other's key, or the other family's algorithm: refused.
    assertThat(valid(rs, EC.getPublic())).isFalse();
    assertThat(valid(es, RSA.getPublic())).isFalse();
    assertThat(OidcJwt.parse(rs).kid()).isEqualTo("k1");
  }

  @Test
  void badSignatureExpiredWrongIssuerAndWrongAudienceAreRefused() throws Exception {
    var good = sign("RS256", null, RSA.getPrivate(), claims(ISS, "client", now() + 60));
    var parts = good.split("\\.");
    var forged =
        parts[0]
            + "."
            + b64(claims(ISS, "client", now() + 6000).getBytes(StandardCharsets.UTF_8))
            + "."
            + parts[2];
    assertThat(valid(forged, RSA.getPublic())).isFalse();
    var other = pair("RSA", null);
    assertThat(
            valid(
                sign("RS256", null, other.getPrivate(), claims(ISS, "client", now() + 60)),
                RSA.getPublic()))
        .isFalse();

    var expired =
        OidcJwt.parse(sign("RS256", null, RSA.getPrivate(), claims(ISS, "client", now() - 5)));
    assertThat(OidcJwt.checkClaims(expired.claims(), now(), 0, List.of(ISS), "client"))
        .isEqualTo("token expired");
    // Within the clock skew allowed (iat_slack) it passes.
    assertThat(OidcJwt.checkClaims(expired.claims(), now(), 120, List.of(ISS), "client")).isNull();
    var issuer =
        OidcJwt.parse(
            sign("RS256", null, RSA.getPrivate(), claims("https://evil", "client", now() + 60)));
    assertThat(OidcJwt.checkClaims(issuer.claims(), now(), 0, List.of(ISS), "client"))
        .isEqualTo("issuer not accepted");
    var audience =
        OidcJwt.parse(sign("RS256", null, RSA.getPrivate(), claims(ISS, "other", now() + 60)));
    assertThat(OidcJwt.checkClaims(audience.claims(), now(), 0, List.of(ISS), "client"))
        .isEqualTo("audience does not name the client");
    var notYet =
        OidcJwt.parse(
            sign(
                "RS256",
                null,
                RSA.getPrivate(),
                "{\"iss\":\"" + ISS + "\",\"nbf\":" + (now() + 600) + "}"));
    assertThat(OidcJwt.checkClaims(notYet.claims(), now(), 0, List.of(ISS), "client"))
        .isEqualTo("token not valid yet");
  }

  @Test
  void noneAndHmacTokensAreNeverAccepted() throws Exception {
    var claims = b64(claims(ISS, "client", now() + 60).getBytes(StandardCharsets.UTF_8));
    var none =
        OidcJwt.parse(
            b64("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + claims + ".");
    assertThat(OidcJwt.verify(none, List.of(RSA.getPublic(), EC.getPublic()))).isFalse();
    var hs =
        OidcJwt.parse(
            b64("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8)) + "." + claims + ".AAAA");
    assertThat(OidcJwt.verify(hs, List.of(RSA.getPublic()))).isFalse();
    assertThatThrownBy(() -> OidcJwt.parse("a.b")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jwksEntriesAndPemKeysGiveTheSameKeys() throws Exception {
    var rsa = (RSAPublicKey) RSA.getPublic();
    var jwk =
        ModelJson.mapper()
            .createObjectNode()
            .put("kty", "RSA")
            .put("kid", "k1")
            .put("n", b64(unsigned(rsa.getModulus())))
            .put("e", b64(unsigned(rsa.getPublicExponent())));
    assertThat(OidcJwt.fromJwk(jwk)).isEqualTo(rsa);
    var ec = (ECPublicKey) EC.getPublic();
    var ecJwk =
        ModelJson.mapper()
            .createObjectNode()
            .put("kty", "EC")
            .put("crv", "P-256")
            .put("x", b64(unsigned(ec.getW().getAffineX())))
            .put("y", b64(unsigned(ec.getW().getAffineY())));
    assertThat(OidcJwt.fromJwk(ecJwk)).isEqualTo(ec);
    assertThat(OidcJwt.fromJwk(jwk.deepCopy().put("use", "enc"))).isNull();
    assertThat(OidcJwt.fromJwk(ModelJson.mapper().createObjectNode().put("kty", "oct"))).isNull();
    var pem =
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(ec.getEncoded())
            + "\n-----END PUBLIC KEY-----\n";
    assertThat(OidcJwt.fromPem(pem)).isEqualTo(ec);
    assertThatThrownBy(() -> OidcJwt.fromPem("nope")).hasMessageContaining("public_key");
  }

  static byte[] unsigned(BigInteger i) {
    var b = i.toByteArray();
    return b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  @Test
  void theSessionCookieIsSealedAndATamperedOneIsRefused() {
    var s = new OidcSession("0123456789abcdef-secret", "session");
    var data =
        ModelJson.mapper().createObjectNode().put("access_token", "t").put("exp", now() + 60);
    var cookie = s.seal(data);
    assertThat(cookie).doesNotContain("access_token");
    assertThat(s.open(cookie, now())).hasToString(data.toString());

    var bytes = Base64.getUrlDecoder().decode(cookie);
    bytes[bytes.length / 2] ^= 1;
    assertThat(s.open(b64(bytes), now())).isNull();
    assertThat(s.open(cookie.substring(0, cookie.length() - 2), now())).isNull();
    assertThat(s.open("garbage!", now())).isNull();
    // Another secret, another cookie name, or past its expiry: refused.
    assertThat(new OidcSession("another-secret-of-16", "session").open(cookie, now())).isNull();
    assertThat(new OidcSession("0123456789abcdef-secret", "other").open(cookie, now())).isNull();
    assertThat(s.open(cookie, now() + 61)).isNull();
  }

  static String check(String conf) {
    var problems =
        PluginSchemas.check(
            "openid-connect",
            ModelJson.mapper().valueToTree(parse(conf)),
            "plugins.openid-connect");
    return problems.toString();
  }

  static Object parse(String json) {
    try {
      return ModelJson.mapper().readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static final String BASE =
      "\"client_id\": \"c\", \"client_secret\": \"s\", \"discovery\": \"http://127.0.0.1:1/.well-known/openid-configuration\"";

  @Test
  void theSchemaMirrorsApisixAndRefusesWhatArchwayDoesNotDo() {
    assertThat(check("{" + BASE + ", \"bearer_only\": true}")).isEqualTo("[]");
    assertThat(check("{\"client_id\": \"c\", \"client_secret\": \"s\"}"))
        .contains("discovery", "missing");
    assertThat(check("{" + BASE + ", \"unauth_action\": \"login\"}"))
        .contains("unauth_action", "auth, deny, pass");
    assertThat(check("{" + BASE + ", \"proxy_opts\": {\"http_proxy\": \"http://p:80\"}}"))
        .contains("proxy_opts is not supported by Archway");
    assertThat(check("{" + BASE + ", \"revoke_tokens_on_logout\": true}"))
        .contains("revoke_tokens_on_logout", "not supported by Archway");
    assertThat(check("{" + BASE + ", \"token_endpoint_auth_method\": \"private_key_jwt\"}"))
        .contains("private_key_jwt and client_secret_jwt are not supported");
    assertThat(check("{" + BASE + ", \"session\": {\"secret\": \"short\"}}"))
        .contains("session.secret");
    assertThat(check("{" + BASE + ", \"misspelt\": 1}")).contains("misspelt");
  }

  @Test
  void theCodeFlowNeedsASessionSecretAndAPublicKeyMustParse() throws Exception {
    var registry = PluginRegistry.load();
    try (var services = new PluginServices()) {
      var scope = new PluginScope("routes/r", services);
      assertThat(compile(registry, scope, "{" + BASE + "}")).contains("session.secret: missing");
      assertThat(
              compile(
                  registry, scope, "{" + BASE + ", \"bearer_only\": true, \"public_key\": \"x\"}"))
          .contains("public_key");
      assertThat(
              compile(
                  registry,
                  scope,
                  "{" + BASE + ", \"session\": {\"secret\": \"0123456789abcdef\"}}"))
          .isEqualTo("[]");
    }
  }

  private static String compile(PluginRegistry registry, PluginScope scope, String conf) {
    var problems = new java.util.ArrayList<io.archway.model.Problem>();
    registry.compileOne(
        "openid-connect", (ObjectNode) parse(conf), scope, "plugins.openid-connect", problems);
    return problems.toString();
  }
}
