package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.CodedOutputStream;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * tencent-cloud-cls: each request's entry (sampled by {@code sample_ratio}, decided before the
 * request goes upstream, plus {@code global_tag}'s fields), batched, uploaded to Tencent Cloud
 * CLS's {@code POST /structuredlog?topic_id=<cls_topic>} as a protobuf {@code LogGroupList} (one
 * {@code LogGroup} whose {@code source} is this machine's address, a {@code Log} per entry, each
 * top-level field a {@code Content} key/value, objects as JSON), signed as APISIX's CLS client
 * signs it: CLS's {@code q-sign-algorithm=sha1} Authorization ({@link #authorization}). CLS's 401,
 * 403, 404 and 413 are not retried, as in APISIX: they will not get better.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class TencentCloudClsPlugin implements EntryLogger<TencentCloudClsPlugin.Config> {

  static final String PATH = "/structuredlog";
  private static final Set<Integer> FINAL = Set.of(401, 403, 404, 413);

  /** The configuration; schema {@code tencent-cloud-cls.json}. */
  public record Config(
      String clsHost,
      String clsTopic,
      String secretId,
      String secretKey,
      double sampleRatio,
      boolean includeReqBody,
      boolean includeRespBody,
      ObjectNode globalTag,
      ObjectNode logFormat,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  @Override
  public String name() {
    return "tencent-cloud-cls";
  }

  @Override
  public int priority() {
    return 397;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var entries =
        LogEntries.builder(
            name(),
            conf.logFormat(),
            conf.includeReqBody(),
            null,
            conf.includeRespBody(),
            null,
            services);
    var host = conf.clsHost();
    var base = host.startsWith("http://") || host.startsWith("https://") ? host : "https://" + host;
    URI uri;
    try {
      uri =
          URI.create(
              base.replaceAll("/+$", "")
                  + PATH
                  + "?topic_id="
                  + URLEncoder.encode(conf.clsTopic(), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cls_host: \"" + host + "\" (expected: a host name)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("cls_host: \"" + host + "\" (expected: a host name)");
    }
    var source = LocalAddress.IP;
    LogBatcher.Sender sender =
        batch -> {
          var m = ModelJson.mapper();
          var logs = new java.util.ArrayList<ObjectNode>(batch.size());
          for (var e : batch) {
            logs.add((ObjectNode) m.readTree(e));
          }
          var req =
              HttpRequest.newBuilder(uri)
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/x-protobuf")
                  .header(
                      "Authorization",
                      authorization(
                          conf.secretId(), conf.secretKey(), System.currentTimeMillis() / 1000))
                  .POST(
                      HttpRequest.BodyPublishers.ofByteArray(
                          logGroupList(logs, System.currentTimeMillis(), source)))
                  .build();
          var res = LogPost.client(services, false).send(req, HttpResponse.BodyHandlers.ofString());
          if (res.statusCode() != 200 && !FINAL.contains(res.statusCode())) {
            throw new IOException(uri + " answered " + res.statusCode() + ": " + res.body());
          }
        };
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    var global = conf.globalTag();
    var logger =
        LogEntries.instance(
            entries,
            (ctx, e) -> {
              if (global != null) {
                e.setAll(global);
              }
              LogEntries.offer(batcher, name(), services, e);
            });
    double ratio = conf.sampleRatio();
    return new PluginInstance() {
      @Override
      public Outcome access(PluginContext ctx) {
        if (ratio >= 1 || ThreadLocalRandom.current().nextDouble() < ratio) {
          ctx.state(this, Boolean.TRUE);
          return logger.access(ctx);
        }
        return Outcome.CONTINUE;
      }

      @Override
      public boolean wantsBody(PluginContext ctx) {
        return sampled(ctx) && logger.wantsBody(ctx);
      }

      @Override
      public byte[] bodyFilter(PluginContext ctx, byte[] body) {
        return logger.bodyFilter(ctx, body);
      }

      @Override
      public void log(PluginContext ctx) {
        if (sampled(ctx)) {
          logger.log(ctx);
        }
      }

      private boolean sampled(PluginContext ctx) {
        return Boolean.TRUE.equals(ctx.state(this));
      }
    };
  }

  /**
   * The Authorization header of an upload at {@code now} (seconds), valid for a minute: CLS's
   * signature as APISIX computes it, over {@code post /structuredlog} with no parameters or headers
   * signed.
   */
  static String authorization(String secretId, String secretKey, long now) {
    var signTime = now + ";" + (now + 60);
    var requestInfo = "post\n" + PATH + "\n\n\n";
    var stringToSign = "sha1\n" + signTime + "\n" + hex(sha1(requestInfo)) + "\n";
    var signKey = hex(hmacSha1(secretKey, signTime));
    var signature = hex(hmacSha1(signKey, stringToSign));
    return "q-sign-algorithm=sha1&q-ak="
        + secretId
        + "&q-sign-time="
        + signTime
        + "&q-key-time="
        + signTime
        + "&q-header-list=&q-url-param-list=&q-signature="
        + signature;
  }

  private static byte[] sha1(String s) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] hmacSha1(String key, String s) {
    try {
      var mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      return mac.doFinal(s.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /**
   * CLS's {@code cls.LogGroupList} with one {@code LogGroup} (logs = 1, source = 4), each entry a
   * {@code Log} (time = 1, contents = 2) whose {@code Content}s (key = 1, value = 2) are the
   * entry's top-level fields: text as it is, anything else as JSON.
   */
  static byte[] logGroupList(List<ObjectNode> entries, long timeMillis, String source)
      throws IOException {
    var group = new ByteArrayOutputStream();
    var g = CodedOutputStream.newInstance(group);
    for (var e : entries) {
      var log = new ByteArrayOutputStream();
      var l = CodedOutputStream.newInstance(log);
      l.writeInt64(1, timeMillis);
      for (var f : e.properties()) {
        var content = new ByteArrayOutputStream();
        var c = CodedOutputStream.newInstance(content);
        c.writeString(1, f.getKey());
        c.writeString(
            2, f.getValue().isTextual() ? f.getValue().asText() : f.getValue().toString());
        c.flush();
        l.writeByteArray(2, content.toByteArray());
      }
      l.flush();
      g.writeByteArray(1, log.toByteArray());
    }
    if (source != null) {
      g.writeString(4, source);
    }
    g.flush();
    var list = new ByteArrayOutputStream();
    var out = CodedOutputStream.newInstance(list);
    out.writeByteArray(1, group.toByteArray());
    out.flush();
    return list.toByteArray();
  }

  /** This machine's address, CLS's log source (APISIX resolves its host name). */
  private static final class LocalAddress {
    static final String IP = read();

    private static String read() {
      try {
        return java.net.InetAddress.getLocalHost().getHostAddress();
      } catch (IOException e) {
        return "127.0.0.1";
      }
    }
  }
}
