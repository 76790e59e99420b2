package io.archway.dataplane.pipeline;

import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.flow.NodeResult;
import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one request's plugins, on its event loop: the request phases in APISIX's order (global
 * rules' rewrite and access, the route's rewrite, the identified consumer's plugins joining, the
 * route's access, then the route's plugin flow if it has one), pausing where a plugin decides
 * later; then, for whatever response is sent, the response phases of every plugin on the path
 * taken, and the log phase. See {@code DESIGN.md} in the plugin package.
 */
final class PluginRun {

  private static final Logger log = LoggerFactory.getLogger(PluginRun.class);

  /** Where the request goes once the request phases are done. */
  interface Listener {
    /** No plugin answered: send the request upstream. */
    void proceed();

    /** A plugin answered. */
    void respond(Outcome.Respond response);
  }

  private enum Stage {
    GLOBAL_REWRITE,
    GLOBAL_ACCESS,
    ROUTE_REWRITE,
    CONSUMER_REWRITE,
    ROUTE_ACCESS,
    FLOW,
    DONE;

    // values() copies its array on every call; next() steps through the stages per request.
    private static final Stage[] ALL = values();
  }

  private final PluginContext ctx;
  private final PluginChain global;
  private PluginChain route;
  private final CompiledFlow flow;
  private final Listener listener;
  private Stage stage = Stage.GLOBAL_REWRITE;
  private int index;
  private boolean cancelled;
  // The flow: the node running, whether its access phase is next, the nodes run so far.
  private CompiledFlow.Node node;
  private boolean nodeAccess;
  private List<PluginChain.Entry> path;
  private boolean wantsBody;
  private BodyStream bodyStream;

  PluginRun(
      PluginContext ctx,
      PluginChain global,
      PluginChain route,
      CompiledFlow flow,
      Listener listener) {
    this.ctx = ctx;
    this.global = global;
    this.route = route;
    this.flow = flow;
    this.listener = listener;
  }

  PluginContext context() {
    return ctx;
  }

  void start() {
    advance(null);
  }

  /** The client went away: a pending decision is dropped when it arrives. */
  void cancel() {
    cancelled = true;
  }

  private void advance(Outcome resumed) {
    var o = resumed;
    while (true) {
      if (o != null) {
        if (o instanceof Outcome.Later later) {
          later
              .stage()
              .whenComplete(
                  (result, err) -> ctx.executor().execute(() -> resume(later, result, err)));
          return;
        }
        if (stage == Stage.FLOW) {
          if (!flowStep(o)) {
            return;
          }
        } else if (o instanceof Outcome.Respond r) {
          stage = Stage.DONE;
          listener.respond(r);
          return;
        }
      }
      o = next();
      if (o == null) {
        listener.proceed();
        return;
      }
    }
  }

  /** A later decision arrived: turn it into the outcome, on the event loop, and go on. */
  private void resume(Outcome.Later later, Object result, Throwable err) {
    if (cancelled) {
      return;
    }
    advance(
        later.decide(
            result,
            err,
            e -> log.warn("route {}: a plugin failed: {}", ctx.routeId(), e.toString())));
  }

  /** Runs the next plugin phase and returns what it decided; {@code null} when all are done. */
  private Outcome next() {
    while (true) {
      switch (stage) {
        case GLOBAL_REWRITE, GLOBAL_ACCESS -> {
          if (index < global.size()) {
            var p = global.get(index++).instance();
            return call(p, stage == Stage.GLOBAL_REWRITE);
          }
        }
        case ROUTE_REWRITE -> {
          if (index < route.size()) {
            var e = route.get(index++);
            return call(e.instance(), true);
          }
          var consumer = ctx.consumer();
          if (consumer != null) {
            route = route.with(consumer);
          }
        }
        case CONSUMER_REWRITE -> {
          while (index < route.size()) {
            var e = route.get(index++);
            if (e.fromConsumer()) {
              return call(e.instance(), true);
            }
          }
        }
        case ROUTE_ACCESS -> {
          if (index < route.size()) {
            return call(route.get(index++).instance(), false);
          }
        }
        case FLOW -> {
          if (flow != null) {
            if (node == null) {
              node = flow.root();
              nodeAccess = false;
              path = new ArrayList<>(4);
              path.add(node.plugin());
            }
            var p = node.plugin().instance();
            if (!nodeAccess) {
              nodeAccess = true;
              var o = call(p, true);
              if (o != Outcome.CONTINUE) {
                // An answer ends the node; a later decision resumes in flowStep.
                nodeAccess = o instanceof Outcome.Later;
                return o;
              }
            }
            nodeAccess = false;
            return call(p, false);
          }
        }
        case DONE -> {
          return null;
        }
      }
      stage = Stage.ALL[stage.ordinal() + 1];
      index = 0;
    }
  }

  private Outcome call(PluginInstance p, boolean rewrite) {
    try {
      var o = rewrite ? p.rewrite(ctx) : p.access(ctx);
      return o == null ? Outcome.CONTINUE : o;
    } catch (RuntimeException ex) {
      log.warn("route {}: a plugin failed: {}", ctx.routeId(), ex.toString());
      return Outcome.message(500, "internal error in a plugin");
    }
  }

  /**
   * A flow node finished with {@code o}: follow the first edge whose condition holds, else the
   * default one; with no edge to follow the flow ends, answering with the node's response if it
   * gave one. Returns whether to go on.
   */
  private boolean flowStep(Outcome o) {
    if (o == Outcome.CONTINUE && nodeAccess) {
      return true; // rewrite passed; the node's access phase is next
    }
    nodeAccess = false;
    var respond = o instanceof Outcome.Respond r ? r : null;
    node.stats().record(respond);
    var taken = node.follow(new NodeResult(respond, ctx));
    if (taken == null) {
      stage = Stage.DONE;
      if (respond != null) {
        listener.respond(respond);
        return false;
      }
      return true;
    }
    taken.stats().taken();
    node = flow.node(taken.next());
    path.add(node.plugin());
    return true;
  }

  // Response phases, over the plugins on the path taken: the global rules', the route's (with the
  // consumer's), then the flow's nodes run. Indexed loops: these run for every response, and a
  // capturing lambda per phase would be an allocation each.

  private int taken() {
    return global.size() + route.size() + (path == null ? 0 : path.size());
  }

  private PluginInstance taken(int i) {
    if (i < global.size()) {
      return global.get(i).instance();
    }
    i -= global.size();
    if (i < route.size()) {
      return route.get(i).instance();
    }
    return path.get(i - route.size()).instance();
  }

  /**
   * Runs the header filters on the response about to be sent; returns whether a body filter wants
   * the whole body.
   */
  boolean headerFilter(HttpResponse response) {
    ctx.status(response.status().code());
    if (ctx.hasResponseHeaders()) {
      // Each name's values replace the response's, all of them (setAll would keep one value per
      // name, and a field such as Set-Cookie has many): every name added goes first, then each
      // value is added.
      var added = ctx.responseHeaders();
      var out = response.headers();
      var it = added.iteratorCharSequence();
      while (it.hasNext()) {
        out.remove(it.next().getKey());
      }
      it = added.iteratorCharSequence();
      while (it.hasNext()) {
        var e = it.next();
        out.add(e.getKey(), e.getValue());
      }
    }
    wantsBody = false;
    int n = taken();
    for (int i = 0; i < n; i++) {
      var p = taken(i);
      try {
        p.headerFilter(ctx, response);
        wantsBody |= p.wantsBody(ctx);
      } catch (RuntimeException ex) {
        log.warn("route {}: a header filter failed: {}", ctx.routeId(), ex.toString());
      }
    }
    ctx.status(response.status().code());
    bodyStream = null;
    for (int i = 0; i < n; i++) {
      try {
        var s = taken(i).bodyStream(ctx);
        if (s != null) {
          bodyStream = bodyStream == null ? s : BodyStream.chain(bodyStream, s);
        }
      } catch (RuntimeException ex) {
        log.warn("route {}: a body stream failed: {}", ctx.routeId(), ex.toString());
      }
    }
    return wantsBody;
  }

  /**
   * The streaming transformation of the body the header filters just let through, or {@code null};
   * taken once (the caller owns it from then on).
   */
  BodyStream takeBodyStream() {
    var s = bodyStream;
    bodyStream = null;
    return s;
  }

  /** Runs the body filters that asked for the body, in order. */
  byte[] bodyFilter(byte[] body) {
    var out = body;
    int n = taken();
    for (int i = 0; i < n; i++) {
      var p = taken(i);
      try {
        if (p.wantsBody(ctx)) {
          out = p.bodyFilter(ctx, out);
        }
      } catch (RuntimeException ex) {
        log.warn("route {}: a body filter failed: {}", ctx.routeId(), ex.toString());
      }
    }
    return out;
  }

  /** The log phase, once the response went out (or the client left). */
  void log(int status, long bytesSent, String upstreamAddr) {
    ctx.answered(status, bytesSent, upstreamAddr);
    int n = taken();
    for (int i = 0; i < n; i++) {
      try {
        taken(i).log(ctx);
      } catch (RuntimeException ex) {
        log.warn("route {}: a log phase failed: {}", ctx.routeId(), ex.toString());
      }
    }
  }
}
