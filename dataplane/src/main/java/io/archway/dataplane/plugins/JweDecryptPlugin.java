package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * jwe-decrypt: a compact JWE ({@code alg: dir}, {@code enc: A256GCM}) in {@code header} is
 * decrypted with the AES-256 key of the consumer whose {@code key} is the token's {@code kid}, and
 * the plaintext goes upstream in {@code forward_header}. The JDK's AES/GCM; nothing else. As in
 * APISIX, the consumer is only where the key is found: it is not identified for later plugins.
 *
 * <p>RFC 7516 authenticates the protected header (the additional data is its base64url text).
 * APISIX's own tokens (its {@code /apisix/plugin/jwe/encrypt}) are sealed without it, so a token
 * that fails the standard check is tried once more without additional data: both are checked by the
 * GCM tag, so neither accepts a token the key did not seal.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION, dryRun = Plugin.DryRun.RUNS)
public final class JweDecryptPlugin implements Plugin<JweDecryptPlugin.Config> {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Outcome.Respond MISSING =
      Outcome.message(403, "missing JWE token in request");
  private static final Outcome.Respond INVALID = Outcome.message(400, "JWE token invalid");
  private static final Outcome.Respond NO_KID = Outcome.message(400, "missing kid in JWE token");
  private static final Outcome.Respond BAD_KID = Outcome.message(400, "invalid kid in JWE token");
  private static final Outcome.Respond FAILED = Outcome.message(400, "failed to decrypt JWE token");

  /** The configuration; schema {@code jwe-decrypt.json}. */
  public record Config(String header, String forwardHeader, boolean strict) {}

  @Override
  public String name() {
    return "jwe-decrypt";
  }

  @Override
  public int priority() {
    return 2509;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public String credentialField() {
    return "key";
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var headers = ctx.request().headers();
        var token = headers.get(conf.header());
        if (token == null) {
          return conf.strict() ? MISSING : Outcome.CONTINUE;
        }
        if (token.startsWith("Bearer ") || token.startsWith("bearer ")) {
          token = token.substring(7);
        }
        var parts = token.split("\\.", -1);
        if (parts.length != 5) {
          return INVALID;
        }
        JsonNode header;
        try {
          header = JSON.readTree(Base64.getUrlDecoder().decode(parts[0]));
        } catch (Exception e) {
          return INVALID;
        }
        if (header == null || !header.isObject()) {
          return INVALID;
        }
        var kid = header.path("kid");
        if (!kid.isTextual()) {
          return NO_KID;
        }
        if (!"dir".equals(header.path("alg").asText("dir"))
            || !"A256GCM".equals(header.path("enc").asText("A256GCM"))
            || !parts[1].isEmpty()) {
          return INVALID;
        }
        var consumer = ctx.consumers().byCredential("jwe-decrypt", kid.asText());
        if (consumer == null) {
          return BAD_KID;
        }
        var cred = consumer.credentials().get("jwe-decrypt");
        byte[] plain;
        try {
          plain =
              decrypt(
                  key(cred.path("secret").asText(""), cred.path("is_base64_encoded").asBoolean()),
                  parts);
        } catch (IllegalArgumentException e) {
          return FAILED;
        }
        headers.set(conf.forwardHeader(), new String(plain, StandardCharsets.UTF_8));
        return Outcome.CONTINUE;
      }
    };
  }

  /** The AES-256 key from a consumer's secret: its first 32 bytes, as OpenSSL takes them. */
  static byte[] key(String secret, boolean base64) {
    byte[] k =
        base64 ? Base64.getMimeDecoder().decode(secret) : secret.getBytes(StandardCharsets.UTF_8);
    if (k.length < 32) {
      throw new IllegalArgumentException("the secret is shorter than 32 bytes");
    }
    return Arrays.copyOf(k, 32);
  }

  /**
   * The plaintext of a compact JWE's five {@code parts}, by RFC 7516 or else as APISIX seals them.
   *
   * @throws IllegalArgumentException when neither authenticates
   */
  static byte[] decrypt(byte[] key, String[] parts) {
    byte[] iv;
    byte[] ciphertext;
    byte[] tag;
    try {
      var dec = Base64.getUrlDecoder();
      iv = dec.decode(parts[2]);
      ciphertext = dec.decode(parts[3]);
      tag = dec.decode(parts[4]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not base64url");
    }
    if (iv.length == 0 || tag.length != 16) {
      throw new IllegalArgumentException("bad iv or tag");
    }
    var sealed = new byte[ciphertext.length + tag.length];
    System.arraycopy(ciphertext, 0, sealed, 0, ciphertext.length);
    System.arraycopy(tag, 0, sealed, ciphertext.length, tag.length);
    try {
      return open(key, iv, sealed, parts[0].getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException standard) {
      try {
        return open(key, iv, sealed, null);
      } catch (GeneralSecurityException apisix) {
        throw new IllegalArgumentException("the tag does not verify");
      }
    }
  }

  private static byte[] open(byte[] key, byte[] iv, byte[] sealed, byte[] aad)
      throws GeneralSecurityException {
    var c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
    if (aad != null) {
      c.updateAAD(aad);
    }
    return c.doFinal(sealed);
  }
}
