package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * jwt-auth: a JSON Web Token from the {@code Authorization} header (with or without {@code
 * Bearer}), the {@code jwt} query argument or cookie. Its {@code key} claim names the consumer,
 * whose {@code jwt-auth} settings verify it: HS256/HS512 with {@code secret} (optionally {@code
 * base64_secret}), RS256 with {@code public_key}; {@code exp} and {@code nbf} are enforced. 401
 * otherwise.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION, dryRun = Plugin.DryRun.RUNS)
public final class JwtAuthPlugin implements Plugin<JwtAuthPlugin.Config> {

  private static final Outcome.Respond MISSING =
      Outcome.message(401, "Missing JWT token in request");
  private static final Outcome.Respond INVALID = Outcome.message(401, "JWT token invalid");
  private static final Outcome.Respond NO_CONSUMER =
      Outcome.message(401, "Invalid user key in JWT token");
  private static final Outcome.Respond FAILED = Outcome.message(401, "failed to verify jwt");

  // Public keys parsed once per PEM text: a consumer's key is used by every request of it.
  private static final Map<String, PublicKey> KEYS = new ConcurrentHashMap<>();

  /** The configuration; schema {@code jwt-auth.json}. */
  public record Config(
      String header,
      String query,
      String cookie,
      boolean hideCredentials,
      String keyClaimName,
      boolean storeInCtx,
      String anonymousConsumer) {}

  @Override
  public String name() {
    return "jwt-auth";
  }

  @Override
  public int priority() {
    return 2510;
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
  public Set<String> results() {
    return Set.of("consumer");
  }

  @Override
  public String credentialField() {
    return "key";
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var header = conf.header();
    var query = conf.query();
    var cookie = conf.cookie();
    var claim = conf.keyClaimName();
    boolean hide = conf.hideCredentials();
    PluginInstance auth =
        new PluginInstance() {
          @Override
          public Outcome rewrite(PluginContext ctx) {
            var h = ctx.request().headers();
            var token = h.get(header);
            if (token != null && token.regionMatches(true, 0, "Bearer ", 0, 7)) {
              token = token.substring(7).strip();
            }
            if (token == null) {
              token = ctx.vars().get("arg_" + query);
            }
            if (token == null) {
              token = ctx.vars().get("cookie_" + cookie);
            }
            if (token == null || token.isEmpty()) {
              return MISSING;
            }
            var parts = token.split("\\.", -1);
            if (parts.length != 3) {
              return INVALID;
            }
            JsonNode head;
            JsonNode payload;
            try {
              var dec = Base64.getUrlDecoder();
              head = ModelJson.mapper().readTree(dec.decode(parts[0]));
              payload = ModelJson.mapper().readTree(dec.decode(parts[1]));
            } catch (Exception e) {
              return INVALID;
            }
            if (!head.isObject() || !payload.isObject()) {
              return INVALID;
            }
            var key = payload.path(claim).asText(null);
            if (key == null) {
              return Outcome.message(401, "missing user key in JWT token");
            }
            var consumer = ctx.consumers().byCredential("jwt-auth", key);
            if (consumer == null) {
              return NO_CONSUMER;
            }
            if (!verify(consumer, head.path("alg").asText(""), parts)) {
              return FAILED;
            }
            long now = System.currentTimeMillis() / 1000;
            long grace =
                consumer.credentials().get("jwt-auth").path("lifetime_grace_period").asLong(0);
            if (payload.has("exp") && payload.get("exp").asLong() + grace <= now) {
              return Outcome.message(401, "failed to verify jwt: token expired");
            }
            if (payload.has("nbf") && payload.get("nbf").asLong() - grace > now) {
              return Outcome.message(401, "failed to verify jwt: token not valid yet");
            }
            ctx.consumer(consumer);
            if (hide) {
              h.remove(header);
            }
            return Outcome.CONTINUE;
          }
        };
    return AnonymousConsumer.wrap(auth, conf.anonymousConsumer());
  }

  /** Checks the signature with the consumer's algorithm; the token's own {@code alg} must agree. */
  static boolean verify(Consumers.Entry consumer, String alg, String[] parts) {
    var c = consumer.credentials().get("jwt-auth");
    var algorithm = c.path("algorithm").asText("HS256");
    if (!algorithm.equals(alg)) {
      return false;
    }
    var signed = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    byte[] signature;
    try {
      signature = Base64.getUrlDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      return false;
    }
    try {
      switch (algorithm) {
        case "HS256", "HS384", "HS512" -> {
          var secret = c.path("secret").asText("");
          var bytes =
              c.path("base64_secret").asBoolean(false)
                  ? Base64.getDecoder().decode(secret)
                  : secret.getBytes(StandardCharsets.UTF_8);
          var mac = Mac.getInstance("Hmac" + "SHA" + algorithm.substring(2));
          mac.init(new SecretKeySpec(bytes, mac.getAlgorithm()));
          return MessageDigest.isEqual(mac.doFinal(signed), signature);
        }
        case "RS256", "RS384", "RS512" -> {
          var pem = c.path("public_key").asText("");
          var key = KEYS.computeIfAbsent(pem, JwtAuthPlugin::publicKey);
          var sig = Signature.getInstance("SHA" + algorithm.substring(2) + "withRSA");
          sig.initVerify(key);
          sig.update(signed);
          return sig.verify(signature);
        }
        default -> {
          return false;
        }
      }
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  private static PublicKey publicKey(String pem) {
    var body =
        pem.replace("-----BEGIN PUBLIC KEY-----", "")
            .replace("-----END PUBLIC KEY-----", "")
            .replaceAll("\\s", "");
    try {
      return KeyFactory.getInstance("RSA")
          .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(body)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("public_key: not an RSA public key in PEM");
    }
  }
}
