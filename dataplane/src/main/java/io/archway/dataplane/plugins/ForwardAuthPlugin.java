package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * forward-auth: asks an authorization service about the request before it goes upstream, as APISIX
 * does (in the rewrite phase): {@code X-Forwarded-Proto/-Method/-Host/-Uri/-For}, the {@code
 * extra_headers} (values with variables) and the {@code request_headers} go to {@code uri} (with
 * the client's body for {@code POST}); a 2xx answer lets the request on with the {@code
 * upstream_headers} copied from it (one it lacks is removed from the request) and, with {@code
 * consumer_header}, as the consumer it names; any other answer goes to the client (status, body and
 * the {@code client_headers}). A service that cannot be reached gives {@code status_on_error}, or
 * lets the request on with {@code allow_degradation}.
 *
 * <p>The call never blocks the event loop: the JDK's client sends it from the plugins' I/O threads
 * and the request resumes on its loop ({@link Outcome.Later}).
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class ForwardAuthPlugin implements Plugin<ForwardAuthPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(ForwardAuthPlugin.class);

  /** What is kept of the service's answer body, and of a client body sent with POST. */
  static final int MAX_BODY = 1 << 20;

  private static final byte[] CONSUMER_MISSING =
      "consumer header missing in auth response".getBytes(java.nio.charset.StandardCharsets.UTF_8);
  private static final byte[] CONSUMER_UNKNOWN =
      "consumer not found".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  /** The fields every authorization request carries, which the configuration cannot replace. */
  private static final Set<String> FORWARDED =
      Set.of(
          "x-forwarded-proto",
          "x-forwarded-method",
          "x-forwarded-host",
          "x-forwarded-uri",
          "x-forwarded-for");

  /** Fields the JDK's client sets itself and refuses from callers. */
  private static final Set<String> RESTRICTED =
      Set.of("connection", "content-length", "expect", "host", "upgrade");

  /** The configuration; schema {@code forward-auth.json}. */
  public record Config(
      String uri,
      boolean sslVerify,
      String requestMethod,
      List<String> requestHeaders,
      Map<String, String> extraHeaders,
      List<String> upstreamHeaders,
      List<String> clientHeaders,
      String consumerHeader,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool,
      boolean allowDegradation,
      int statusOnError) {}

  @Override
  public String name() {
    return "forward-auth";
  }

  @Override
  public int priority() {
    return 2002;
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
  public PluginInstance compile(Config conf, PluginScope scope) {
    URI uri;
    try {
      uri = URI.create(conf.uri());
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null
        || uri.getHost() == null
        || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
      throw new IllegalArgumentException("uri: \"" + conf.uri() + "\" (expected: an http(s) URL)");
    }
    return new Instance(conf, uri, scope.services());
  }

  private static final class Instance implements PluginInstance {
    private final Config conf;
    private final URI uri;
    private final PluginServices services;
    private final Duration timeout;
    private final boolean post;
    private final Map<String, Template> extra = new LinkedHashMap<>();

    Instance(Config conf, URI uri, PluginServices services) {
      if (conf.extraHeaders() != null) {
        conf.extraHeaders().forEach((k, v) -> extra.put(k, Template.of(v)));
      }
      this.conf = conf;
      this.uri = uri;
      this.services = services;
      this.timeout = Duration.ofMillis(conf.timeout());
      this.post = "POST".equals(conf.requestMethod());
    }

    @Override
    public Outcome rewrite(PluginContext ctx) {
      var req = HttpRequest.newBuilder(uri).timeout(timeout);
      var vars = ctx.vars();
      header(req, "X-Forwarded-Proto", vars.get("scheme"));
      header(req, "X-Forwarded-Method", ctx.request().method().name());
      header(req, "X-Forwarded-Host", vars.get("host"));
      header(req, "X-Forwarded-Uri", vars.get("request_uri"));
      header(req, "X-Forwarded-For", vars.get("remote_addr"));
      var h = ctx.request().headers();
      var named = new HashSet<String>(FORWARDED);
      if (post) {
        // Content-Length, Expect and Transfer-Encoding are the client's own business.
        header(req, "Content-Encoding", h.get(HttpHeaderNames.CONTENT_ENCODING));
        named.add("content-encoding");
      }
      extra.forEach(
          (name, value) -> {
            if (named.add(name.toLowerCase(Locale.ROOT))) {
              header(req, name, value.render(ctx));
            }
          });
      for (var name : conf.requestHeaders()) {
        if (named.add(name.toLowerCase(Locale.ROOT))) {
          for (var v : h.getAll(name)) {
            header(req, name, v);
          }
        }
      }
      if (!post) {
        return Outcome.later(send(req.GET()), res -> decide(ctx, res));
      }
      CompletionStage<Sent> sent =
          ctx.body(MAX_BODY)
              .thenCompose(
                  body -> {
                    if (!body.ok()) {
                      return CompletableFuture.completedFuture(new Sent(null, null, body.status()));
                    }
                    return send(req.POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())));
                  });
      return Outcome.later(sent, s -> decide(ctx, s));
    }

    /**
     * The service's answer, or why there is none: the call failed ({@code err}), or the client's
     * body could not be read ({@code refused}: the status owed to the client).
     */
    private record Sent(HttpResponse<byte[]> res, Throwable err, int refused) {}

    private CompletionStage<Sent> send(HttpRequest.Builder req) {
      var client = conf.sslVerify() ? services.http() : services.httpUnverified();
      return client
          .sendAsync(req.build(), BoundedBody.handler(MAX_BODY))
          .handle((res, err) -> new Sent(res, err, 0));
    }

    private Outcome decide(PluginContext ctx, Sent s) {
      if (s.refused() != 0) {
        return Rejection.of(s.refused(), null);
      }
      if (s.res() == null) {
        if (conf.allowDegradation()) {
          return Outcome.CONTINUE;
        }
        log.warn("forward-auth: {} failed: {}", uri, s.err() == null ? "?" : s.err().toString());
        return Rejection.of(conf.statusOnError(), null);
      }
      var res = s.res();
      if (res.statusCode() >= 300) {
        var headers = new DefaultHttpHeaders();
        for (var name : conf.clientHeaders()) {
          res.headers().allValues(name).forEach(v -> headers.add(name, v));
        }
        return Outcome.respond(res.statusCode(), headers, res.body());
      }
      if (conf.consumerHeader() != null) {
        var name = res.headers().firstValue(conf.consumerHeader()).orElse("");
        if (name.isEmpty()) {
          return Outcome.respond(403, null, CONSUMER_MISSING);
        }
        var consumer = ctx.consumers().byName(name);
        if (consumer == null) {
          return Outcome.respond(403, null, CONSUMER_UNKNOWN);
        }
        ctx.consumer(consumer);
      }
      var h = ctx.request().headers();
      for (var name : conf.upstreamHeaders()) {
        var v = res.headers().allValues(name);
        if (v.isEmpty()) {
          // Not the service's to say: the client's own value must not pass for it.
          h.remove(name);
        } else {
          h.set(name, v);
        }
      }
      return Outcome.CONTINUE;
    }

    private static void header(HttpRequest.Builder req, String name, String value) {
      if (value != null && !RESTRICTED.contains(name.toLowerCase(Locale.ROOT))) {
        try {
          req.header(name, value);
        } catch (IllegalArgumentException e) {
          // A value the client may not send on (a control character): left out.
        }
      }
    }
  }
}
