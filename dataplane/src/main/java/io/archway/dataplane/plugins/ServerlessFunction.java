package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginServices;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one instance behind aws-lambda, azure-functions, openfunction and openwhisk, which differ in
 * the URL they call and how they authenticate ({@link Auth}): in the access phase the request is
 * sent to the function instead of the upstream, and the function's answer goes to the client.
 *
 * <p>Forwarding (APISIX's {@code generic-upstream}): the client's method, fields (not the
 * connection's own), query and body go to {@code function_uri}, whose path gets the part of the
 * request path that a route's trailing {@code *} matched (APISIX's {@code :ext}); the function's
 * status, fields and body come back. OpenWhisk instead POSTs the body to the action with {@code
 * blocking=true}, and the action's JSON result shapes the answer: its {@code statusCode}, {@code
 * headers} and {@code body}, or the whole result when it has no {@code body}.
 *
 * <p>The call never blocks the event loop: the body is read on it, the JDK's client sends from the
 * plugins' I/O threads, and the answer is made on the loop again ({@link Outcome#later}). No answer
 * within {@code timeout} (or none at all) is 503, as APISIX.
 */
final class ServerlessFunction implements PluginInstance {

  private static final Logger log = LoggerFactory.getLogger(ServerlessFunction.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The largest request body sent to a function, and the most of its answer kept. */
  static final int MAX_BODY = 8 << 20;

  /** The connection's own fields, and those the JDK's client sets itself. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "content-length",
          "expect",
          "host",
          "http2-settings");

  /** The function's fields that are not passed to the client (the gateway frames the answer). */
  private static final Set<String> NOT_RETURNED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "content-length");

  /** How the request is shaped: forwarded as it came, or an OpenWhisk action invocation. */
  enum Mode {
    FORWARD,
    OPENWHISK
  }

  /**
   * The request about to be sent, which {@link Auth} may complete: fields by lower-case name.
   * Everything here is plain data, safe to fill on any thread.
   */
  static final class Call {
    String method;
    final URI base;
    String path;
    String rawQuery;
    final Map<String, List<String>> headers = new TreeMap<>();
    byte[] body = new byte[0];

    Call(URI base) {
      this.base = base;
    }

    boolean has(String name) {
      return headers.containsKey(name);
    }

    void set(String name, String value) {
      if (value != null) {
        headers.put(name.toLowerCase(Locale.ROOT), new ArrayList<>(List.of(value)));
      }
    }

    /** {@code host[:port]} as the client sends it in {@code Host}. */
    String authority() {
      return base.getRawAuthority();
    }

    URI uri() {
      var s = base.getScheme() + "://" + base.getRawAuthority() + path;
      return URI.create(rawQuery == null || rawQuery.isEmpty() ? s : s + "?" + rawQuery);
    }
  }

  /** Adds a plugin's credentials to a call; runs once the body is known (SigV4 signs it). */
  @FunctionalInterface
  interface Auth {
    void apply(Call call);
  }

  /** HTTP basic authorization with {@code token} ({@code user:password}), as APISIX encodes it. */
  static String basic(String token) {
    return "Basic " + Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
  }

  private final URI base;
  private final Mode mode;
  private final Auth auth;
  private final Duration timeout;
  private final boolean sslVerify;
  private final PluginServices services;
  private final String openwhiskQuery;

  ServerlessFunction(
      URI base,
      Mode mode,
      Auth auth,
      int timeoutMillis,
      boolean sslVerify,
      PluginServices services,
      String openwhiskQuery) {
    this.base = base;
    this.mode = mode;
    this.auth = auth;
    this.timeout = Duration.ofMillis(timeoutMillis);
    this.sslVerify = sslVerify;
    this.services = services;
    this.openwhiskQuery = openwhiskQuery;
  }

  /**
   * {@code uri} as an http(s) URL with a host.
   *
   * @throws IllegalArgumentException naming {@code field}
   */
  static URI httpUrl(String field, String uri) {
    URI u;
    try {
      u = URI.create(uri);
    } catch (IllegalArgumentException e) {
      u = null;
    }
    if (u == null
        || u.getHost() == null
        || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
      throw new IllegalArgumentException(
          field + ": \"" + uri + "\" (expected: an http(s) URL with a host)");
    }
    return u;
  }

  @Override
  public Outcome access(PluginContext ctx) {
    var call = new Call(base);
    var basePath =
        base.getRawPath() == null || base.getRawPath().isEmpty() ? "/" : base.getRawPath();
    if (mode == Mode.OPENWHISK) {
      call.method = "POST";
      call.path = basePath;
      call.rawQuery = openwhiskQuery;
      call.set("content-type", "application/json");
    } else {
      call.method = ctx.request().method().name();
      call.path = withExt(basePath, ext(ctx.vars().path(), ctx.routePaths()));
      var uri = ctx.request().uri();
      int q = uri.indexOf('?');
      call.rawQuery = q >= 0 ? uri.substring(q + 1) : base.getRawQuery();
      for (var e : ctx.request().headers()) {
        var name = e.getKey().toLowerCase(Locale.ROOT);
        if (!NOT_FORWARDED.contains(name)) {
          call.headers.computeIfAbsent(name, k -> new ArrayList<>()).add(e.getValue());
        }
      }
    }
    CompletionStage<Answer> answer =
        ctx.body(MAX_BODY)
            .thenCompose(
                body -> {
                  if (!body.ok()) {
                    return CompletableFuture.completedFuture(new Answer(null, null, body.status()));
                  }
                  call.body = body.bytes() == null ? new byte[0] : body.bytes();
                  auth.apply(call);
                  return send(call);
                });
    return Outcome.later(answer, this::respond);
  }

  /** The function's answer, or why there is none: the call failed, or the body was refused. */
  private record Answer(HttpResponse<byte[]> res, Throwable err, int refused) {}

  private CompletionStage<Answer> send(Call call) {
    HttpRequest.Builder req;
    try {
      req = HttpRequest.newBuilder(call.uri()).timeout(timeout);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(new Answer(null, e, 0));
    }
    call.headers.forEach(
        (name, values) -> {
          for (var v : values) {
            try {
              req.header(name, v);
            } catch (IllegalArgumentException e) {
              // A field the JDK's client will not send (its own, or a bad value): left out.
            }
          }
        });
    req.method(
        call.method,
        call.body.length == 0
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(call.body));
    var client = sslVerify ? services.http() : services.httpUnverified();
    return client
        .sendAsync(req.build(), BoundedBody.handler(MAX_BODY))
        .handle((res, err) -> new Answer(res, err, 0));
  }

  private Outcome respond(Answer a) {
    if (a.refused() != 0) {
      return Rejection.of(a.refused(), null);
    }
    if (a.res() == null) {
      log.warn("{}: the function failed: {}", base, a.err() == null ? "?" : a.err().toString());
      return Rejection.of(503, null);
    }
    var res = a.res();
    var headers = new DefaultHttpHeaders();
    if (mode == Mode.FORWARD) {
      res.headers()
          .map()
          .forEach(
              (name, values) -> {
                if (!name.startsWith(":")
                    && !NOT_RETURNED.contains(name.toLowerCase(Locale.ROOT))) {
                  headers.add(name, values);
                }
              });
      return Outcome.respond(res.statusCode(), headers, res.body());
    }
    return openwhisk(res, headers);
  }

  /**
   * OpenWhisk's answer: a JSON result whose {@code statusCode}, {@code headers} and {@code body}
   * make the response (a {@code body} that is not a string is sent as JSON); a result without a
   * body is sent whole; one that is no JSON object is 503, as APISIX.
   */
  private Outcome openwhisk(HttpResponse<byte[]> res, HttpHeaders headers) {
    JsonNode result;
    try {
      result = JSON.readTree(res.body());
    } catch (java.io.IOException e) {
      result = null;
    }
    if (result == null || !result.isObject()) {
      log.warn("openwhisk {}: the answer is no JSON object (status {})", base, res.statusCode());
      return Rejection.of(503, null);
    }
    var h = result.get("headers");
    if (h != null && h.isObject()) {
      h.fields()
          .forEachRemaining(
              e -> {
                var name = e.getKey();
                if (NOT_RETURNED.contains(name.toLowerCase(Locale.ROOT))) {
                  return;
                }
                try {
                  if (e.getValue().isArray()) {
                    e.getValue().forEach(v -> headers.add(name, v.asText()));
                  } else {
                    headers.add(name, e.getValue().asText());
                  }
                } catch (IllegalArgumentException bad) {
                  // A name or value that is no HTTP field: left out.
                }
              });
    }
    int status = res.statusCode();
    var code = result.get("statusCode");
    if (code != null && code.canConvertToInt() && code.asInt() >= 100 && code.asInt() <= 599) {
      status = code.asInt();
    }
    var body = result.get("body");
    byte[] bytes;
    if (body == null || body.isNull()) {
      bytes = res.body();
    } else if (body.isTextual()) {
      bytes = body.asText().getBytes(StandardCharsets.UTF_8);
    } else {
      bytes = body.toString().getBytes(StandardCharsets.UTF_8);
      if (!headers.contains("content-type")) {
        headers.set("content-type", "application/json");
      }
    }
    return Outcome.respond(status, headers, bytes);
  }

  /**
   * The part of {@code path} a route's {@code /prefix/*} matched (APISIX's {@code :ext}), or {@code
   * null} when the route matched otherwise.
   */
  static String ext(String path, List<String> routePaths) {
    if (routePaths == null || path == null) {
      return null;
    }
    for (var p : routePaths) {
      if (p.endsWith("*")) {
        var prefix = p.substring(0, p.length() - 1);
        if (path.startsWith(prefix)) {
          return path.substring(prefix.length());
        }
      }
    }
    return null;
  }

  /**
   * APISIX's join: one {@code /} between the function's path and the matched part (an empty part,
   * {@code /prefix/} itself, still ends the path with {@code /}, as the client's did).
   */
  static String withExt(String basePath, String ext) {
    if (ext == null) {
      return basePath;
    }
    if (basePath.endsWith("/") || ext.startsWith("/")) {
      return basePath + ext;
    }
    return basePath + "/" + ext;
  }
}
