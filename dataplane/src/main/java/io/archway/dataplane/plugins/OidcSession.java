package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ModelJson;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The browser session of the sign-in plugins ({@link OAuthCodeFlow}: openid-connect,
 * authz-casdoor): a JSON object sealed into one cookie value with AES-256-GCM (encrypted and
 * authenticated), under a key derived from a secret (openid-connect's {@code session.secret}) with
 * HKDF-SHA256 and a label per plugin, so every replica given the same secret reads every other's
 * cookies, one plugin's cookie is never another's, and nothing is kept on the gateway. The cookie's
 * name is the associated data: a value moved to another cookie is refused. The payload carries its
 * own expiry ({@code exp}, seconds), checked when opened.
 */
final class OidcSession {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int IV = 12;

  private final SecretKeySpec key;
  private final byte[] aad;

  OidcSession(String secret, String cookieName) {
    this(secret, cookieName, "openid-connect");
  }

  /**
   * A session whose key is {@code purpose}'s own: the same secret gives another plugin another key.
   */
  OidcSession(String secret, String cookieName, String purpose) {
    this.key = new SecretKeySpec(hkdf(secret.getBytes(StandardCharsets.UTF_8), purpose), "AES");
    this.aad = cookieName.getBytes(StandardCharsets.US_ASCII);
  }

  /** The cookie value for {@code data}; {@code data} must have {@code exp}. */
  String seal(ObjectNode data) {
    try {
      var iv = new byte[IV];
      RANDOM.nextBytes(iv);
      var c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
      c.updateAAD(aad);
      var sealed = c.doFinal(ModelJson.mapper().writeValueAsBytes(data));
      var out = new byte[IV + sealed.length];
      System.arraycopy(iv, 0, out, 0, IV);
      System.arraycopy(sealed, 0, out, IV, sealed.length);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("sealing the session failed", e);
    }
  }

  /**
   * The session in a cookie value, or {@code null} when it is absent, was not sealed with this
   * secret, was changed, or has expired.
   *
   * @param now seconds since the epoch
   */
  ObjectNode open(String value, long now) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      var bytes = Base64.getUrlDecoder().decode(value);
      if (bytes.length <= IV + 16) {
        return null;
      }
      var c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, bytes, 0, IV));
      c.updateAAD(aad);
      var plain = c.doFinal(bytes, IV, bytes.length - IV);
      JsonNode data = ModelJson.mapper().readTree(plain);
      if (!(data instanceof ObjectNode o) || o.path("exp").asLong(0) <= now) {
        return null;
      }
      return o;
    } catch (GeneralSecurityException | java.io.IOException | IllegalArgumentException e) {
      return null;
    }
  }

  /** HKDF-SHA256 (RFC 5869), one block: 32 bytes of key. */
  private static byte[] hkdf(byte[] secret, String purpose) {
    try {
      var mac = Mac.getInstance("HmacSHA256");
      mac.init(
          new SecretKeySpec(
              ("archway " + purpose + " session").getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      var prk = mac.doFinal(secret);
      mac.init(new SecretKeySpec(prk, "HmacSHA256"));
      mac.update("aes-256-gcm".getBytes(StandardCharsets.US_ASCII));
      mac.update((byte) 1);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A random URL-safe value (state, nonce, PKCE verifier). */
  static String random() {
    var b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
