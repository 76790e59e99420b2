package io.archway.dataplane.plugins;

import io.archway.dataplane.exchange.RequestBody;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * hmac-auth (APISIX 3.x): {@code Authorization: Signature keyId="..",algorithm="..",
 * headers="@request-target date ..",signature=".."}. The consumer is the one whose credential's
 * {@code key_id} is the keyId; the signature is the base64 HMAC, with its {@code secret_key}, of
 * the keyId and each listed header ({@code name: value}, or {@code METHOD request-uri} for {@code
 * @request-target}), one a line. The route's {@code allowed_algorithms}, {@code clock_skew} (the
 * {@code Date} header), {@code signed_headers} and {@code validate_request_body} (a {@code Digest:
 * SHA-256=<base64>} of the body) are checked as APISIX does; every failure is 401 "client request
 * can't be validated", the reason logged at debug level.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION, dryRun = Plugin.DryRun.RUNS)
public final class HmacAuthPlugin implements Plugin<HmacAuthPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(HmacAuthPlugin.class);

  static final String FAILED = "client request can't be validated";
  static final Outcome.Respond REFUSED = Outcome.message(401, FAILED);

  /** The largest body {@code validate_request_body} reads. */
  static final int MAX_BODY = 8 << 20;

  private static final Map<String, String> MACS =
      Map.of("hmac-sha1", "HmacSHA1", "hmac-sha256", "HmacSHA256", "hmac-sha512", "HmacSHA512");

  private static final Pattern FIELD = Pattern.compile("^\\s*(\\w+)=\"(.*?)\"");

  /** The configuration; schema {@code hmac-auth.json}. */
  public record Config(
      List<String> allowedAlgorithms,
      int clockSkew,
      List<String> signedHeaders,
      boolean validateRequestBody,
      boolean hideCredentials,
      String anonymousConsumer) {}

  @Override
  public String name() {
    return "hmac-auth";
  }

  @Override
  public int priority() {
    return 2530;
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
    return "key_id";
  }

  /** The fields of the Authorization header APISIX reads. */
  record Params(
      String keyId, String algorithm, String signature, List<String> headers, String date) {}

  /** The Authorization header's fields, or {@code null} when it is not a Signature. */
  static Params parse(String auth, String date) {
    if (auth == null || !auth.startsWith("Signature")) {
      return null;
    }
    String keyId = null;
    String algorithm = null;
    String signature = null;
    List<String> headers = null;
    for (var field : auth.substring(9).split(",")) {
      var m = FIELD.matcher(field);
      if (!m.find()) {
        continue;
      }
      var value = m.group(2);
      switch (m.group(1)) {
        case "keyId" -> keyId = value;
        case "algorithm" -> algorithm = value;
        case "signature" -> signature = value;
        case "headers" -> headers = List.of(value.split(" "));
        default -> {}
      }
    }
    return new Params(keyId, algorithm, signature, headers, date);
  }

  /** What the signature covers: the keyId, then each listed header, one a line. */
  static String signingString(Params p, PluginContext ctx) {
    var items = new ArrayList<String>();
    items.add(p.keyId());
    if (p.headers() != null) {
      var h = ctx.request().headers();
      for (var name : p.headers()) {
        var v = h.get(name);
        if (v != null) {
          items.add(name + ": " + v);
        } else if (name.equals("@request-target")) {
          items.add(ctx.request().method().name() + " " + ctx.vars().get("request_uri"));
        }
      }
    }
    return String.join("\n", items) + "\n";
  }

  static byte[] hmac(String algorithm, String secret, String text) {
    var name = MACS.get(algorithm);
    try {
      var mac = Mac.getInstance(name);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), name));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var allowed = Set.copyOf(conf.allowedAlgorithms());
    var anonymous = conf.anonymousConsumer();
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var h = ctx.request().headers();
        var p = parse(h.get(HttpHeaderNames.AUTHORIZATION), h.get(HttpHeaderNames.DATE));
        String why;
        if (h.get(HttpHeaderNames.AUTHORIZATION) == null) {
          why = "no Authorization header";
        } else if (p == null) {
          why = "Authorization header does not start with 'Signature'";
        } else {
          why = check(p, ctx);
        }
        if (why != null) {
          return refuse(ctx, why);
        }
        var consumer = ctx.consumers().byCredential("hmac-auth", p.keyId());
        if (!conf.validateRequestBody()) {
          return accept(ctx, consumer);
        }
        var digest = h.get("Digest");
        if (digest == null) {
          return refuse(ctx, "Invalid digest");
        }
        return Outcome.later(
            ctx.body(MAX_BODY),
            (RequestBody.Body body) -> {
              if (!body.ok()) {
                return Rejection.of(body.status(), null);
              }
              var want = "SHA-256=" + Base64.getEncoder().encodeToString(sha256(body.bytes()));
              return MessageDigest.isEqual(
                      want.getBytes(StandardCharsets.UTF_8),
                      digest.getBytes(StandardCharsets.UTF_8))
                  ? accept(ctx, consumer)
                  : refuse(ctx, "Invalid digest");
            });
      }

      /** Why the signature does not hold, or {@code null} when it does. */
      private String check(Params p, PluginContext ctx) {
        if (p.keyId() == null || p.signature() == null) {
          return "keyId or signature missing";
        }
        if (p.algorithm() == null) {
          return "algorithm missing";
        }
        var consumer = ctx.consumers().byCredential("hmac-auth", p.keyId());
        if (consumer == null) {
          return "Invalid key_id";
        }
        if (!allowed.contains(p.algorithm())) {
          return "Invalid algorithm";
        }
        if (conf.clockSkew() > 0) {
          if (p.date() == null) {
            return "Date header missing. failed to validate clock skew";
          }
          long at;
          try {
            at =
                ZonedDateTime.parse(p.date(), DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond();
          } catch (DateTimeParseException e) {
            return "Invalid GMT format time";
          }
          if (Math.abs(System.currentTimeMillis() / 1000 - at) > conf.clockSkew()) {
            return "Clock skew exceeded";
          }
        }
        if (conf.signedHeaders() != null && !conf.signedHeaders().isEmpty()) {
          if (p.headers() == null) {
            return "headers missing";
          }
          for (var name : conf.signedHeaders()) {
            if (!p.headers().contains(name)) {
              return "expected header \"" + name + "\" missing in signing";
            }
          }
        }
        byte[] given;
        try {
          given = Base64.getDecoder().decode(p.signature());
        } catch (IllegalArgumentException e) {
          return "Invalid signature";
        }
        var secret = consumer.credentials().get("hmac-auth").path("secret_key").asText("");
        var want = hmac(p.algorithm(), secret, signingString(p, ctx));
        return MessageDigest.isEqual(want, given) ? null : "Invalid signature";
      }

      private Outcome accept(PluginContext ctx, Consumers.Entry consumer) {
        ctx.consumer(consumer);
        if (conf.hideCredentials()) {
          ctx.request().headers().remove(HttpHeaderNames.AUTHORIZATION);
        }
        return Outcome.CONTINUE;
      }

      private Outcome refuse(PluginContext ctx, String why) {
        log.debug("hmac-auth: {}: {}", FAILED, why);
        return AnonymousConsumer.orFailure(ctx, anonymous, REFUSED);
      }
    };
  }

  static byte[] sha256(byte[] body) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(body);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
