package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpResponse;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * request-id: gives each request an id in {@code header_name} (kept when the client sent one),
 * publishes it as {@code request_id}, and returns it in the response. The {@code algorithm}s are
 * APISIX's: {@code uuid}, {@code nanoid}, {@code range_id} and {@code ksuid}.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.RUNS)
public final class RequestIdPlugin implements Plugin<RequestIdPlugin.Config> {

  private static final String NANOID =
      "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  /** The configuration; schema {@code request-id.json}. */
  public record Config(
      String headerName, boolean includeInResponse, String algorithm, RangeId rangeId) {}

  /** The settings of algorithm {@code range_id}. */
  public record RangeId(String charSet, int length) {}

  @Override
  public String name() {
    return "request-id";
  }

  @Override
  public int priority() {
    return 12015;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.HEADER_FILTER);
  }

  @Override
  public Set<String> results() {
    return Set.of("request_id");
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var header = conf.headerName();
    boolean inResponse = conf.includeInResponse();
    var algorithm = conf.algorithm();
    var charSet = conf.rangeId().charSet();
    int length = conf.rangeId().length();
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var h = ctx.request().headers();
        var id = h.get(header);
        if (id == null || id.isEmpty()) {
          id =
              switch (algorithm) {
                case "nanoid" -> random(NANOID, 21);
                case "range_id" -> random(charSet, length);
                case "ksuid" -> ksuid(System.currentTimeMillis() / 1000, randomBytes(16));
                default -> UUID.randomUUID().toString();
              };
          h.set(header, id);
        }
        ctx.publish("request_id", id);
        return Outcome.CONTINUE;
      }

      @Override
      public void headerFilter(PluginContext ctx, HttpResponse response) {
        var id = ctx.result("request_id");
        if (inResponse && id != null && !response.headers().contains(header)) {
          response.headers().set(header, id);
        }
      }
    };
  }

  private static final String BASE62 =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  // KSUID's epoch: 2014-05-13T16:53:20Z.
  private static final long KSUID_EPOCH = 1_400_000_000L;

  /**
   * A KSUID: 4 bytes of seconds since its epoch and 16 random bytes, big-endian, in base 62 padded
   * to 27 characters, so ids sort by time.
   */
  static String ksuid(long epochSeconds, byte[] payload) {
    var bytes = new byte[21]; // a leading zero keeps the number positive
    int t = (int) (epochSeconds - KSUID_EPOCH);
    bytes[1] = (byte) (t >>> 24);
    bytes[2] = (byte) (t >>> 16);
    bytes[3] = (byte) (t >>> 8);
    bytes[4] = (byte) t;
    System.arraycopy(payload, 0, bytes, 5, 16);
    var n = new java.math.BigInteger(bytes);
    var base = java.math.BigInteger.valueOf(62);
    var out = new char[27];
    for (int i = 26; i >= 0; i--) {
      var qr = n.divideAndRemainder(base);
      out[i] = BASE62.charAt(qr[1].intValue());
      n = qr[0];
    }
    return new String(out);
  }

  private static byte[] randomBytes(int n) {
    var b = new byte[n];
    ThreadLocalRandom.current().nextBytes(b);
    return b;
  }

  private static String random(String chars, int n) {
    var r = ThreadLocalRandom.current();
    var out = new char[n];
    for (int i = 0; i < n; i++) {
      out[i] = chars.charAt(r.nextInt(chars.length()));
    }
    return new String(out);
  }
}
