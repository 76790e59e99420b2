package io.archway.dataplane.plugins;

import io.archway.dataplane.exchange.RequestBodyCopy;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.netty.handler.codec.http.HttpUtil;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * proxy-mirror: a copy of each request ({@code sample_ratio} of them) to {@code host}, with the
 * request's method, headers and body, and its path and query (or {@code path}, in place of the path
 * or before it), for the requests that go to a node. Fire and forget: the copy is sent once the
 * request was answered (its log phase), from the plugins' I/O threads, and its answer or failure
 * never reaches the client. What it may cost is bounded: a body is copied as it streams upstream up
 * to {@link #MAX_BODY} (a larger one is not mirrored), and at most {@link #MAX_IN_FLIGHT} copies
 * are in flight per gateway (more are dropped and logged).
 *
 * <p>Not as APISIX: the copy goes once the request is answered, not alongside it (nginx's {@code
 * mirror} subrequest); a {@code grpc://} or {@code grpcs://} host is refused (the copy is sent over
 * HTTP/1.1); the copy's {@code Host} is the mirror's (the JDK's client sets it).
 */
public final class ProxyMirrorPlugin implements Plugin<ProxyMirrorPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(ProxyMirrorPlugin.class);

  static final int MAX_BODY = 1 << 20;
  static final int MAX_IN_FLIGHT = 256;
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** Fields the JDK's client sets itself, and the hop-by-hop ones. */
  private static final Set<String> SKIPPED =
      Set.of(
          "connection",
          "content-length",
          "expect",
          "host",
          "upgrade",
          "keep-alive",
          "te",
          "trailer",
          "transfer-encoding",
          "proxy-connection");

  /** The configuration; schema {@code proxy-mirror.json}. */
  public record Config(String host, String path, String pathConcatMode, double sampleRatio) {}

  @Override
  public String name() {
    return "proxy-mirror";
  }

  @Override
  public int priority() {
    return 1010;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.LOG);
  }

  /** The copies in flight on a gateway, shared by every configuration. */
  static final class InFlight {
    final AtomicInteger count = new AtomicInteger();
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    if (conf.host().startsWith("grpc")) {
      throw new IllegalArgumentException(
          "host: \""
              + conf.host()
              + "\" (expected: an http:// or https:// mirror; gRPC mirrors are not supported)");
    }
    var services = scope.services();
    InFlight inFlight = services.shared("proxy-mirror/in-flight", InFlight::new);
    boolean prefix = "prefix".equals(conf.pathConcatMode());
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        if (conf.sampleRatio() < 1
            && ThreadLocalRandom.current().nextDouble() >= conf.sampleRatio()) {
          return Outcome.CONTINUE;
        }
        var req = ctx.request();
        var target = target(ctx, conf.path(), prefix);
        var b = HttpRequest.newBuilder(URI.create(conf.host() + target)).timeout(TIMEOUT);
        for (var e : req.headers()) {
          if (!SKIPPED.contains(e.getKey().toLowerCase(Locale.ROOT))) {
            try {
              b.header(e.getKey(), e.getValue());
            } catch (IllegalArgumentException ex) {
              // a field the JDK's client refuses: the copy goes without it
            }
          }
        }
        boolean hasBody =
            HttpUtil.getContentLength(req, 0L) > 0 || HttpUtil.isTransferEncodingChunked(req);
        if (hasBody && ctx.attribute(RequestBodyCopy.KEY) == null) {
          ctx.attribute(RequestBodyCopy.KEY, new RequestBodyCopy(MAX_BODY));
        }
        ctx.state(this, new Pending(b, req.method().name(), hasBody));
        return Outcome.CONTINUE;
      }

      @Override
      public void log(PluginContext ctx) {
        Pending p = ctx.state(this);
        if (p == null || ctx.upstreamAddr() == null) {
          // Only a request that went to a node is mirrored (nginx mirrors from the proxy), not
          // one a later plugin refused.
          return;
        }
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
        if (p.hasBody()) {
          var copy = ctx.attribute(RequestBodyCopy.KEY);
          var whole = copy == null ? null : copy.whole();
          if (whole == null) {
            log.debug("proxy-mirror: body not read whole or over {} bytes; not mirrored", MAX_BODY);
            return;
          }
          body = HttpRequest.BodyPublishers.ofByteArray(whole);
        }
        send(services, inFlight, p.builder().method(p.method(), body).build());
      }
    };
  }

  private record Pending(HttpRequest.Builder builder, String method, boolean hasBody) {}

  /** The mirror's request target: the request's, or {@code path} in its place or before it. */
  static String target(PluginContext ctx, String path, boolean prefix) {
    var uri = ctx.request().uri();
    if (path == null) {
      return uri;
    }
    if (prefix) {
      return path + uri;
    }
    int q = uri.indexOf('?');
    return q < 0 ? path : path + uri.substring(q);
  }

  private static void send(PluginServices services, InFlight inFlight, HttpRequest req) {
    if (inFlight.count.incrementAndGet() > MAX_IN_FLIGHT) {
      inFlight.count.decrementAndGet();
      log.warn("proxy-mirror: {} copies in flight; {} dropped", MAX_IN_FLIGHT, req.uri());
      return;
    }
    var client =
        "https".equals(req.uri().getScheme()) ? services.httpUnverified() : services.http();
    client
        .sendAsync(req, HttpResponse.BodyHandlers.discarding())
        .whenComplete(
            (res, err) -> {
              inFlight.count.decrementAndGet();
              if (err != null) {
                log.debug("proxy-mirror: {} failed: {}", req.uri(), err.toString());
              }
            });
  }
}
