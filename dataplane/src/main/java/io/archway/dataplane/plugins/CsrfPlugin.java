package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * csrf: APISIX's double-submit token. Every response sets the cookie {@code name} to a fresh token,
 * base64 of {@code {"random":..,"expires":<issued at>,"sign":..}} where the sign is the hex SHA-256
 * of {@code {expires:<e>,random:<r>,key:<key>}} (numbers written as Lua writes them, so tokens pass
 * between APISIX and Archway with the same key); a request other than GET, HEAD or OPTIONS must
 * send the cookie's value in the header {@code name} too, younger than {@code expires} seconds.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class CsrfPlugin implements Plugin<CsrfPlugin.Config> {

  private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

  static final Outcome.Respond NO_HEADER = refusal("no csrf token in headers");
  static final Outcome.Respond NO_COOKIE = refusal("no csrf cookie");
  static final Outcome.Respond MISMATCH = refusal("csrf token mismatch");
  static final Outcome.Respond BAD_SIGNATURE = refusal("Failed to verify the csrf token signature");

  /** nginx's {@code ngx.cookie_time}: two-digit years up to 2037. */
  private static final DateTimeFormatter COOKIE_TIME =
      DateTimeFormatter.ofPattern("EEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static final DateTimeFormatter COOKIE_TIME_LATE =
      DateTimeFormatter.ofPattern("EEE, dd-MMM-yyyy HH:mm:ss 'GMT'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static Outcome.Respond refusal(String message) {
    return Outcome.respond(
        401,
        new DefaultHttpHeaders()
            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON),
        Outcome.errorBody(message));
  }

  /** The configuration; schema {@code csrf.json}. */
  public record Config(String key, long expires, String name) {}

  @Override
  public String name() {
    return "csrf";
  }

  @Override
  public int priority() {
    return 2980;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.HEADER_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        if (SAFE_METHODS.contains(ctx.request().method().name())) {
          return Outcome.CONTINUE;
        }
        var header = ctx.request().headers().get(conf.name());
        if (header == null || header.isEmpty()) {
          return NO_HEADER;
        }
        var cookie = ctx.vars().get("cookie_" + conf.name());
        if (cookie == null) {
          return NO_COOKIE;
        }
        if (!header.equals(cookie)) {
          return MISMATCH;
        }
        return valid(conf, cookie, Instant.now().getEpochSecond())
            ? Outcome.CONTINUE
            : BAD_SIGNATURE;
      }

      @Override
      public void headerFilter(PluginContext ctx, HttpResponse response) {
        long now = Instant.now().getEpochSecond();
        response
            .headers()
            .add(
                HttpHeaderNames.SET_COOKIE,
                conf.name()
                    + "="
                    + token(conf.key(), now)
                    + ";path=/;SameSite=Lax;Expires="
                    + cookieTime(now + conf.expires()));
      }
    };
  }

  /** A fresh token issued at {@code now} (epoch seconds). */
  static String token(String key, long now) {
    var random = luaNumber(ThreadLocalRandom.current().nextDouble());
    var expires = Long.toString(now);
    var json =
        "{\"random\":"
            + random
            + ",\"expires\":"
            + expires
            + ",\"sign\":\""
            + sign(random, expires, key)
            + "\"}";
    return Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Whether {@code token} is one this key signed, issued no more than {@code expires} ago. */
  static boolean valid(Config conf, String token, long now) {
    JsonNode t;
    try {
      t = ModelJson.mapper().readTree(Base64.getDecoder().decode(token));
    } catch (Exception e) {
      return false;
    }
    if (t == null || !t.isObject()) {
      return false;
    }
    var random = text(t.get("random"));
    var expires = t.get("expires");
    var sign = t.get("sign");
    if (random == null || expires == null || !expires.isNumber() || sign == null) {
      return false;
    }
    if (conf.expires() > 0 && now - expires.doubleValue() > conf.expires()) {
      return false;
    }
    var want = sign(random, luaNumber(expires.doubleValue()), conf.key());
    return sign.isTextual()
        && MessageDigest.isEqual(
            want.getBytes(StandardCharsets.UTF_8),
            sign.textValue().getBytes(StandardCharsets.UTF_8));
  }

  /** A token field as Lua's string concatenation writes it. */
  private static String text(JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isNumber()) {
      return luaNumber(v.doubleValue());
    }
    return v.isTextual() ? v.textValue() : null;
  }

  static String sign(String random, String expires, String key) {
    try {
      var digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  ("{expires:" + expires + ",random:" + random + ",key:" + key + "}")
                      .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A number as Lua's {@code tostring} writes it ({@code %.14g}). */
  static String luaNumber(double d) {
    if (d == 0) {
      return "0";
    }
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return Double.isNaN(d) ? "nan" : (d > 0 ? "inf" : "-inf");
    }
    var bd = new BigDecimal(d).round(new MathContext(14, RoundingMode.HALF_EVEN));
    int exp = bd.precision() - bd.scale() - 1;
    if (exp < -4 || exp >= 14) {
      var mantissa = bd.movePointLeft(exp).stripTrailingZeros().toPlainString();
      return mantissa
          + "e"
          + (exp < 0 ? "-" : "+")
          + (Math.abs(exp) < 10 ? "0" : "")
          + Math.abs(exp);
    }
    return bd.stripTrailingZeros().toPlainString();
  }

  static String cookieTime(long epochSeconds) {
    var at = Instant.ofEpochSecond(epochSeconds);
    return at.atZone(ZoneOffset.UTC).getYear() > 2037
        ? COOKIE_TIME_LATE.format(at)
        : COOKIE_TIME.format(at);
  }
}
