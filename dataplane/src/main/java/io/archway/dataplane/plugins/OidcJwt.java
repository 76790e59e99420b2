package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.ModelJson;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

/**
 * Signed JSON Web Tokens for openid-connect, with the JDK's crypto only: RS256/384/512,
 * PS256/384/512, ES256/384/512 (no HMAC: a provider's tokens are checked with its public keys; no
 * {@code none}). Keys come from a JWKS entry or a PEM public key.
 */
final class OidcJwt {

  private OidcJwt() {}

  /** A token split into its parts; nothing is verified yet. */
  record Token(String raw, JsonNode header, JsonNode claims, byte[] signed, byte[] signature) {

    String alg() {
      return header.path("alg").asText("");
    }

    /** The key id, or {@code null}. */
    String kid() {
      return header.hasNonNull("kid") ? header.get("kid").asText() : null;
    }
  }

  /**
   * Splits a compact JWS.
   *
   * @throws IllegalArgumentException when it is not three base64url parts of which the first two
   *     are JSON objects
   */
  static Token parse(String raw) {
    var parts = raw.split("\\.", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a JWT");
    }
    try {
      var dec = Base64.getUrlDecoder();
      var header = ModelJson.mapper().readTree(dec.decode(parts[0]));
      var claims = ModelJson.mapper().readTree(dec.decode(parts[1]));
      if (header == null || !header.isObject() || claims == null || !claims.isObject()) {
        throw new IllegalArgumentException("not a JWT");
      }
      return new Token(
          raw,
          header,
          claims,
          (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII),
          dec.decode(parts[2]));
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a JWT");
    }
  }

  /** Whether one of {@code keys} that suits the token's algorithm verifies its signature. */
  static boolean verify(Token t, Collection<PublicKey> keys) {
    for (var key : keys) {
      if (verify(t, key)) {
        return true;
      }
    }
    return false;
  }

  static boolean verify(Token t, PublicKey key) {
    var alg = t.alg();
    if (alg.length() != 5) {
      return false;
    }
    var bits = alg.substring(2);
    if (!bits.equals("256") && !bits.equals("384") && !bits.equals("512")) {
      return false;
    }
    try {
      Signature sig;
      switch (alg.substring(0, 2)) {
        case "RS" -> {
          if (!(key instanceof RSAPublicKey)) {
            return false;
          }
          sig = Signature.getInstance("SHA" + bits + "withRSA");
        }
        case "PS" -> {
          if (!(key instanceof RSAPublicKey)) {
            return false;
          }
          sig = Signature.getInstance("RSASSA-PSS");
          var md = "SHA-" + bits;
          sig.setParameter(
              new PSSParameterSpec(
                  md, "MGF1", new MGF1ParameterSpec(md), Integer.parseInt(bits) / 8, 1));
        }
        case "ES" -> {
          if (!(key instanceof ECPublicKey ec) || !curveFits(ec, bits)) {
            return false;
          }
          // JWS carries R||S (RFC 7518 3.4), which is the JDK's P1363 format.
          sig = Signature.getInstance("SHA" + bits + "withECDSAinP1363Format");
        }
        default -> {
          return false;
        }
      }
      sig.initVerify(key);
      sig.update(t.signed());
      return sig.verify(t.signature());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean curveFits(ECPublicKey key, String bits) {
    int size = key.getParams().getCurve().getField().getFieldSize();
    return switch (bits) {
      case "256" -> size == 256;
      case "384" -> size == 384;
      default -> size == 521;
    };
  }

  /**
   * The public key of a JWKS entry (RSA or EC), or {@code null} for an entry Archway cannot use (a
   * symmetric key, an encryption key, another curve).
   */
  static PublicKey fromJwk(JsonNode jwk) {
    if (jwk.has("use") && !"sig".equals(jwk.path("use").asText())) {
      return null;
    }
    try {
      var dec = Base64.getUrlDecoder();
      switch (jwk.path("kty").asText()) {
        case "RSA" -> {
          var n = new BigInteger(1, dec.decode(jwk.path("n").asText()));
          var e = new BigInteger(1, dec.decode(jwk.path("e").asText()));
          return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
        }
        case "EC" -> {
          var curve =
              switch (jwk.path("crv").asText()) {
                case "P-256" -> "secp256r1";
                case "P-384" -> "secp384r1";
                case "P-521" -> "secp521r1";
                default -> null;
              };
          if (curve == null) {
            return null;
          }
          var params = AlgorithmParameters.getInstance("EC");
          params.init(new ECGenParameterSpec(curve));
          var spec = params.getParameterSpec(ECParameterSpec.class);
          var point =
              new ECPoint(
                  new BigInteger(1, dec.decode(jwk.path("x").asText())),
                  new BigInteger(1, dec.decode(jwk.path("y").asText())));
          return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, spec));
        }
        default -> {
          return null;
        }
      }
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * A PEM {@code PUBLIC KEY} (RSA or EC).
   *
   * @throws IllegalArgumentException when it is neither
   */
  static PublicKey fromPem(String pem) {
    var body =
        pem.replace("-----BEGIN PUBLIC KEY-----", "")
            .replace("-----END PUBLIC KEY-----", "")
            .replaceAll("\\s", "");
    byte[] der;
    try {
      der = Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("public_key: not a PEM public key");
    }
    for (var type : new String[] {"RSA", "EC"}) {
      try {
        return KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next type
      }
    }
    throw new IllegalArgumentException("public_key: not an RSA or EC public key in PEM");
  }

  /**
   * Checks a verified token's time and issuer claims; the reason it fails, or {@code null}.
   *
   * @param now seconds since the epoch
   * @param slack the clock skew tolerated, seconds
   * @param issuers the issuers accepted; empty: any
   * @param audience the client id a token naming an audience must name; {@code null}: not checked
   */
  static String checkClaims(
      JsonNode claims, long now, long slack, Collection<String> issuers, String audience) {
    var exp = claims.get("exp");
    if (exp != null && (!exp.isNumber() || exp.asLong() + slack <= now)) {
      return "token expired";
    }
    var nbf = claims.get("nbf");
    if (nbf != null && (!nbf.isNumber() || nbf.asLong() - slack > now)) {
      return "token not valid yet";
    }
    if (!issuers.isEmpty() && !issuers.contains(claims.path("iss").asText(null))) {
      return "issuer not accepted";
    }
    if (audience != null && claims.has("aud")) {
      var aud = claims.get("aud");
      boolean ok = false;
      if (aud.isArray()) {
        for (var a : aud) {
          ok |= audience.equals(a.asText());
        }
      } else {
        ok = audience.equals(aud.asText());
      }
      if (!ok) {
        return "audience does not name the client";
      }
    }
    return null;
  }
}
