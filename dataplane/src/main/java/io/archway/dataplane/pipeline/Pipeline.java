package io.archway.dataplane.pipeline;

import io.archway.dataplane.config.CompiledConfig;
import io.archway.dataplane.config.CompiledRoute;
import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.exchange.LoadShedding;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.route.PathNormalizer;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.route.RouteEntry;
import io.archway.dataplane.upstream.ConnectionPools;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The one request pipeline, shared by every connection of every protocol adapter. Its steps, in
 * order (see {@code DESIGN.md}, "A request"): normalize the target, match a route, run the rewrite
 * and access plugins (or the route's plugin flow), pick the upstream and its route handler (proxy,
 * with retries), then for whatever response goes out the header and body filters, and the log. The
 * request steps are here; the call ({@link RouteCall}) carries one request through them.
 */
public final class Pipeline {

  static final byte[] NOT_FOUND = Outcome.errorBody("404 Route Not Found");
  static final byte[] OVERLOADED = Outcome.errorBody(503);
  static final HttpHeaders OVERLOADED_HEADERS =
      new DefaultHttpHeaders()
          .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .set(HttpHeaderNames.RETRY_AFTER, "1");
  static final byte[] NO_CLIENT_CERTIFICATE =
      "{\"error_msg\":\"No required SSL certificate was sent\"}\n".getBytes(StandardCharsets.UTF_8);

  private final ConfigCompiler config;
  private final ConnectionPools pools;
  private final HttpMetrics metrics;
  private final InFlight inFlight;
  private final AccessLog accessLog;
  private final RequestLimits limits;
  private final RouteHandler[] handlers;
  private final LoadShedding shedding;

  /**
   * @param handlers one implementation of each kind of route handler
   * @param shedding asked once per request: while the server sheds, a request is answered 503 with
   *     {@code Retry-After} at once and its connection closes
   */
  public Pipeline(
      ConfigCompiler config,
      ConnectionPools pools,
      HttpMetrics metrics,
      InFlight inFlight,
      AccessLog accessLog,
      RequestLimits limits,
      Map<CompiledRoute.Handler, RouteHandler> handlers,
      LoadShedding shedding) {
    this.shedding = shedding;
    this.config = config;
    this.pools = pools;
    this.metrics = metrics;
    this.inFlight = inFlight;
    this.accessLog = accessLog;
    this.limits = limits;
    var kinds = CompiledRoute.Handler.values();
    this.handlers = new RouteHandler[kinds.length];
    for (var k : kinds) {
      var h = handlers.get(k);
      if (h == null) {
        throw new IllegalArgumentException("no route handler for " + k);
      }
      this.handlers[k.ordinal()] = h;
    }
  }

  public HttpMetrics metrics() {
    return metrics;
  }

  public ConnectionPools pools() {
    return pools;
  }

  public RequestLimits limits() {
    return limits;
  }

  /** The server's overload state, for the adapters (body reads, keep-alive, HTTP/2 streams). */
  public LoadShedding shedding() {
    return shedding;
  }

  InFlight inFlight() {
    return inFlight;
  }

  AccessLog accessLog() {
    return accessLog;
  }

  /**
   * A request head arrived: runs it through the steps. Its body, the client's writability and its
   * leaving go to the exchange ({@link Exchange#content} and the rest) from now on.
   */
  public void run(Exchange ex) {
    inFlight.begin();
    var call = new RouteCall(this, ex);
    var d = ex.downstream();
    // normalize
    RequestVars vars;
    try {
      var req = ex.request();
      vars =
          new RequestVars(req.method().name(), req.uri(), req.headers(), d.peer(), limits.paths());
    } catch (PathNormalizer.BadTarget e) {
      // A path that would mean one thing here and another upstream (docs/security.md, "Paths").
      metrics.error("bad_request_target");
      d.closeAfterResponse();
      call.respondError(400);
      return;
    }
    vars.protocol(d.protocol());
    ex.vars(vars);
    if (shedding.shedRequest()) {
      // Overloaded: answered before any route, plugin or upstream costs anything, and the
      // connection closes so that what it holds is freed.
      metrics.error("overloaded");
      d.closeAfterResponse();
      call.respond(503, OVERLOADED_HEADERS, OVERLOADED, null);
      return;
    }
    if (!d.clientCertificateAdmits(vars.path())) {
      metrics.error("client_certificate_required");
      call.respond(400, RouteCall.JSON, NO_CLIENT_CERTIFICATE, null);
      return;
    }
    // match
    var compiled = config.current();
    var entry = compiled.router().match(vars);
    if (entry == null && vars.awaitsBody()) {
      // A route that matches on the body is next in line: match again once it is read.
      BodyMatch.read(this, call, compiled);
      return;
    }
    routed(call, compiled, entry);
  }

  /** The route is found ({@code null}: none, 404): its plugins, then its handler. */
  void routed(RouteCall call, CompiledConfig compiled, RouteEntry<CompiledRoute> entry) {
    var ex = call.exchange();
    if (entry == null) {
      call.respond(404, RouteCall.JSON, NOT_FOUND, null);
      return;
    }
    var route = entry.target();
    call.route(route, compiled);
    var flow = compiled.flowOf(route);
    if (route.flowId() != null && flow == null) {
      metrics.error("plugin_flow_unavailable");
      call.respondError(503);
      return;
    }
    if (route.plugins().isEmpty() && compiled.global().isEmpty() && flow == null) {
      call.proceed();
      return;
    }
    // rewrite, access (or the flow)
    var pc = new PluginContext(ex, compiled.consumers(), compiled.upstreams()::get);
    var run = new PluginRun(pc, compiled.global(), route.plugins(), flow, call);
    call.plugins(run);
    run.start();
  }

  /**
   * A request the adapter refused before it could be read (its decoder found it ambiguous or not
   * HTTP): answered with {@code status}, logged, and the connection closes.
   */
  public void refuse(Exchange ex, int status) {
    inFlight.begin();
    ex.downstream().closeAfterResponse();
    new RouteCall(this, ex).respondError(status);
  }

  /** The handler of a route's kind. */
  RouteHandler handler(CompiledRoute.Handler kind) {
    return handlers[kind.ordinal()];
  }
}
