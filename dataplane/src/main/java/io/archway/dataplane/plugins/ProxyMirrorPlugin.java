package io.archway.dataplane.plugins;

import io.archway.dataplane.exchange.RequestBodyCopy;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.channel.IoEventLoop;
import io.netty.handler.codec.http.HttpUtil;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * <p>A {@code grpc://} host gets the copy over HTTP/2 in clear text (prior knowledge, as gRPC
 * servers take it), a {@code grpcs://} one over h2 by ALPN ({@link ProxyMirrorH2}), as APISIX's
 * {@code grpc}/{@code grpcs} mirrors; {@code http://} and {@code https://} ones over the JDK's
 * client (HTTP/1.1; h2 by ALPN where the mirror offers it over TLS).
 *
 * <p>{@code mirrors} (Archway's extension: APISIX's proxy-mirror has one {@code host}) lists
 * further mirrors, each a {@code host} with its own {@code sample_ratio}: every mirror is sampled
 * on its own and gets its own copy, as the Gateway API's several {@code RequestMirror} filters of
 * one rule.
 *
 * <p>Not as APISIX: the copy goes once the request is answered, not alongside it (nginx's {@code
 * mirror} subrequest); the copy's {@code Host} (or {@code :authority}) is the mirror's.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC)
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
  public record Config(
      String host, String path, String pathConcatMode, double sampleRatio, List<Mirror> mirrors) {}

  /** A further mirror ({@code mirrors}, Archway's extension): its host and its share. */
  public record Mirror(String host, Double sampleRatio) {}

  /** One mirror as compiled: where, how often, and its HTTP/2 sender for gRPC hosts. */
  private record Target(String host, double sampleRatio, ProxyMirrorH2 h2) {
    static Target of(String host, double sampleRatio) {
      return new Target(host, sampleRatio, host.startsWith("grpc") ? ProxyMirrorH2.of(host) : null);
    }
  }

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

    /** Counts one more copy, or says (and logs) that it is dropped. */
    boolean take(String what) {
      if (count.incrementAndGet() > MAX_IN_FLIGHT) {
        count.decrementAndGet();
        log.warn("proxy-mirror: {} copies in flight; {} dropped", MAX_IN_FLIGHT, what);
        return false;
      }
      return true;
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var targets = new ArrayList<Target>();
    targets.add(Target.of(conf.host(), conf.sampleRatio()));
    if (conf.mirrors() != null) {
      for (var m : conf.mirrors()) {
        targets.add(Target.of(m.host(), m.sampleRatio() == null ? 1 : m.sampleRatio()));
      }
    }
    var services = scope.services();
    InFlight inFlight = services.shared("proxy-mirror/in-flight", InFlight::new);
    boolean prefix = "prefix".equals(conf.pathConcatMode());
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var sampled = new ArrayList<Target>(targets.size());
        for (var target : targets) {
          if (target.sampleRatio() >= 1
              || ThreadLocalRandom.current().nextDouble() < target.sampleRatio()) {
            sampled.add(target);
          }
        }
        if (sampled.isEmpty()) {
          return Outcome.CONTINUE;
        }
        var req = ctx.request();
        var headers = new ArrayList<Map.Entry<String, String>>();
        for (var e : req.headers()) {
          var name = e.getKey().toLowerCase(Locale.ROOT);
          if (!SKIPPED.contains(name) && !name.startsWith(":")) {
            headers.add(Map.entry(name, e.getValue()));
          }
        }
        boolean hasBody =
            HttpUtil.getContentLength(req, 0L) > 0 || HttpUtil.isTransferEncodingChunked(req);
        if (hasBody && ctx.attribute(RequestBodyCopy.KEY) == null) {
          ctx.attribute(RequestBodyCopy.KEY, new RequestBodyCopy(MAX_BODY));
        }
        ctx.state(
            this,
            new Pending(
                req.method().name(), target(ctx, conf.path(), prefix), headers, hasBody, sampled));
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
        byte[] body = null;
        if (p.hasBody()) {
          var copy = ctx.attribute(RequestBodyCopy.KEY);
          body = copy == null ? null : copy.whole();
          if (body == null) {
            log.debug("proxy-mirror: body not read whole or over {} bytes; not mirrored", MAX_BODY);
            return;
          }
        }
        for (var target : p.mirrors()) {
          if (!inFlight.take(target.host() + p.target())) {
            continue;
          }
          var h2 = target.h2();
          if (h2 != null && ctx.executor() instanceof IoEventLoop loop) {
            h2.send(
                loop,
                p.method(),
                p.target(),
                p.headers(),
                body,
                TIMEOUT,
                inFlight.count::decrementAndGet);
          } else if (h2 != null) {
            inFlight.count.decrementAndGet(); // not on an I/O loop: no connection can be made
          } else {
            send(services, inFlight, request(target.host(), p, body));
          }
        }
      }
    };
  }

  /** What the copy will be, taken before later plugins change the request. */
  private record Pending(
      String method,
      String target,
      List<Map.Entry<String, String>> headers,
      boolean hasBody,
      List<Target> mirrors) {}

  private static HttpRequest request(String host, Pending p, byte[] body) {
    var b = HttpRequest.newBuilder(URI.create(host + p.target())).timeout(TIMEOUT);
    for (var e : p.headers()) {
      try {
        b.header(e.getKey(), e.getValue());
      } catch (IllegalArgumentException ex) {
        // a field the JDK's client refuses: the copy goes without it
      }
    }
    return b.method(
            p.method(),
            body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

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
