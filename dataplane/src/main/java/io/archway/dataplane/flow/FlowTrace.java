package io.archway.dataplane.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.exchange.Exchange;
import io.archway.dataplane.plugin.Consumers;
import io.archway.dataplane.plugin.DryRunRefused;
import io.archway.dataplane.plugin.DryRunTrace;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.PluginChain;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.route.Peer;
import io.archway.dataplane.route.RequestVars;
import io.archway.model.ModelJson;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * A dry-run of a plugin flow (the Studio's trace): one made-up request through a flow compiled for
 * it ({@link CompiledFlow#compile(io.archway.model.PluginFlow, String,
 * io.archway.dataplane.plugin.PluginRegistry, io.archway.dataplane.plugin.PluginServices, List,
 * boolean)} with {@code dryRun}), node by node as {@code pipeline/PluginRun} runs a flow, recording
 * each node's outcome, the edges followed, the response, and what loggers would have sent.
 *
 * <p>No upstream is called (the given upstream response stands in) and no side effect happens:
 * plugins run with {@link PluginContext#dryRun()} set and their scope's {@code dryRun}, so loggers
 * report their entry, limiters count in a throwaway state, delays are not waited, and a plugin that
 * cannot be simulated ({@link io.archway.dataplane.plugin.Plugin.DryRun#REFUSED}) is an error step,
 * never run. It all runs on a dry-run event loop of its own (never a serving one); a plugin
 * deciding later ({@link Outcome.Later}) resumes there.
 */
public final class FlowTrace {

  /** The request to trace; {@code headers} by name, {@code body} possibly empty. */
  public record Request(
      String method,
      String uri,
      String host,
      Map<String, List<String>> headers,
      byte[] body,
      String remoteAddr) {}

  /**
   * What a dry-run's request may hold: the HTTP listener's limits (header fields, header bytes,
   * {@code client_max_body_size}, {@code 0}: none), so a trace never takes what a request could not
   * bring; at most {@code concurrent} dry-runs at once.
   */
  public record Limits(int maxHeaders, int maxHeaderSize, long maxBodySize, int concurrent) {
    /** The HTTP listener's defaults. */
    public static final Limits DEFAULTS = new Limits(256, 32 * 1024, 0, 4);
  }

  /** What stands in for the upstream's answer. */
  public record Upstream(int status, Map<String, List<String>> headers, byte[] body) {}

  private static final class Loop {
    static final DefaultEventLoopGroup GROUP =
        new DefaultEventLoopGroup(1, new DefaultThreadFactory("archway-dry-run", true));
  }

  private FlowTrace() {}

  /**
   * Runs {@code request} through {@code flow} (compiled for a dry-run), with the consumers and
   * upstreams of the config in force. Completes with {@code {steps, edges, response, logs}}.
   *
   * @throws IllegalArgumentException for a request target that does not parse
   */
  public static CompletionStage<ObjectNode> run(
      CompiledFlow flow,
      Consumers consumers,
      Function<String, io.archway.dataplane.upstream.UpstreamRuntime> upstreams,
      Request request,
      Upstream upstream) {
    var loop = Loop.GROUP.next();
    var headers = new DefaultHttpHeaders();
    request.headers().forEach(headers::add);
    if (request.host() != null) {
      headers.set("host", request.host());
    } else if (!headers.contains("host")) {
      headers.set("host", "localhost");
    }
    var method = HttpMethod.valueOf(request.method());
    var head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, request.uri(), headers);
    var ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(request.remoteAddr());
    if (ip == null) {
      throw new IllegalArgumentException(
          "request.remote_addr: \"" + request.remoteAddr() + "\" (expected: an IP address)");
    }
    InetAddress remote;
    try {
      remote = InetAddress.getByAddress(ip);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("request.remote_addr: " + e.getMessage());
    }
    var peer = Peer.of(new InetSocketAddress(remote, 40000), 9080, "http");
    RequestVars vars;
    try {
      vars = new RequestVars(request.method(), request.uri(), headers, peer);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "request.uri: \""
              + request.uri()
              + "\" (expected: a request target: "
              + e.getMessage()
              + ")");
    }
    var exchange = new Exchange(new NoClient(loop, peer), head, System.nanoTime());
    exchange.vars(vars);
    // Always there, empty too: a plugin reading the body gets it at once (nobody would send it).
    exchange.body(request.body());
    var done = new CompletableFuture<ObjectNode>();
    loop.execute(
        () -> {
          try {
            var ctx = new PluginContext(exchange, consumers, upstreams);
            new Run(flow, ctx, upstream, done).start();
          } catch (RuntimeException e) {
            done.completeExceptionally(e);
          }
        });
    return done;
  }

  /** One dry-run, on its loop. */
  private static final class Run implements DryRunTrace {
    private final CompiledFlow flow;
    private final PluginContext ctx;
    private final Upstream upstream;
    private final CompletableFuture<ObjectNode> done;
    private final ObjectNode out = ModelJson.mapper().createObjectNode();
    private final ArrayNode steps = out.putArray("steps");
    private final ArrayNode edges = out.putArray("edges");
    private final ArrayNode logs;
    private final List<PluginChain.Entry> path = new ArrayList<>(4);
    private final List<String> pathIds = new ArrayList<>(4);
    private CompiledFlow.Node node;
    private String phase;
    private int finishing = -1; // the index in path whose response or log phase runs now
    private CompletableFuture<?> pending; // what a Later waits for
    private Map<String, Object> before;
    private List<String> simulated;
    private String failure;
    private long started;

    Run(
        CompiledFlow flow,
        PluginContext ctx,
        Upstream upstream,
        CompletableFuture<ObjectNode> done) {
      this.flow = flow;
      this.ctx = ctx;
      this.upstream = upstream;
      this.done = done;
      // A timed-out run is cancelled: what it waits for is dropped, and nothing more runs.
      done.whenComplete(
          (v, e) -> {
            var p = pending;
            if (p != null) {
              p.cancel(false);
            }
          });
      out.putNull("response");
      this.logs = out.putArray("logs");
      ctx.dryRun(this);
    }

    void start() {
      enter(flow.root());
    }

    private void enter(CompiledFlow.Node n) {
      if (done.isDone()) {
        return; // timed out: cancelled
      }
      node = n;
      path.add(n.plugin());
      pathIds.add(n.id());
      before = new HashMap<>(ctx.exchange().results());
      simulated = new ArrayList<>(1);
      failure = null;
      started = System.nanoTime();
      if (n.plugin().instance() instanceof DryRunRefused refused) {
        phase = "rewrite";
        failure = refused.reason();
        path.remove(path.size() - 1); // never run, not even its response phases
        pathIds.remove(pathIds.size() - 1);
        step("error", null);
        finish(Outcome.message(500, refused.reason()));
        return;
      }
      phase = "rewrite";
      decided(call(true));
    }

    private Outcome call(boolean rewrite) {
      var p = node.plugin().instance();
      try {
        var o = rewrite ? p.rewrite(ctx) : p.access(ctx);
        return o == null ? Outcome.CONTINUE : o;
      } catch (RuntimeException ex) {
        failure = ex.toString();
        return Outcome.message(500, "internal error in a plugin");
      }
    }

    private void decided(Outcome o) {
      if (o instanceof Outcome.Later later) {
        pending = later.stage().toCompletableFuture();
        pending.whenComplete((v, err) -> ctx.executor().execute(() -> resumed(later, v, err)));
        return;
      }
      if (o == Outcome.CONTINUE && phase.equals("rewrite")) {
        phase = "access";
        decided(call(false));
        return;
      }
      nodeDone(o instanceof Outcome.Respond r ? r : null);
    }

    private void resumed(Outcome.Later later, Object value, Throwable err) {
      pending = null;
      if (done.isDone()) {
        return; // timed out (answered 504): cancelled, nothing more runs
      }
      try {
        Outcome o;
        try {
          o = later.decide(value, err, e -> failure = e.toString());
        } catch (RuntimeException ex) {
          failure = ex.toString();
          o = Outcome.message(500, "internal error in a plugin");
        }
        decided(o);
      } catch (RuntimeException ex) {
        done.completeExceptionally(ex);
      }
    }

    private void nodeDone(Outcome.Respond respond) {
      var outcome = failure != null ? "error" : respond == null ? "continue" : "respond";
      step(outcome, respond);
      var taken = node.follow(new NodeResult(respond, ctx));
      if (taken == null) {
        finish(respond);
        return;
      }
      var next = flow.node(taken.next());
      edges
          .addObject()
          .put("from", node.id())
          .put("to", next.id())
          .put("condition", taken.condition());
      enter(next);
    }

    private void step(String outcome, Outcome.Respond respond) {
      var s = steps.addObject();
      s.put("node", node.id());
      s.put("plugin", node.plugin().name());
      s.put("phase", phase);
      s.put("outcome", outcome);
      s.put("status", respond == null ? (failure != null ? 500 : 200) : respond.status());
      var published = s.putObject("published");
      ctx.exchange()
          .results()
          .forEach(
              (k, v) -> {
                if (!v.equals(before.get(k))) {
                  published.set(k, ModelJson.mapper().valueToTree(v.toString()));
                }
              });
      if (!simulated.isEmpty()) {
        s.put("simulated", String.join("; ", simulated));
      }
      if (failure != null) {
        s.put("error_msg", failure);
      }
      s.put("duration_us", (System.nanoTime() - started) / 1000);
    }

    /** The response phases and the log phase of the nodes run, on the answer sent. */
    private void finish(Outcome.Respond respond) {
      try {
        int status = respond != null ? respond.status() : upstream.status();
        var response =
            new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        byte[] body;
        if (respond != null) {
          if (respond.headers() != null) {
            response.headers().set(respond.headers());
          }
          body = respond.body();
        } else {
          upstream.headers().forEach(response.headers()::add);
          body = upstream.body();
        }
        ctx.status(status);
        if (ctx.hasResponseHeaders()) {
          var added = ctx.responseHeaders();
          for (var name : added.names()) {
            response.headers().set(name, added.getAll(name));
          }
        }
        boolean wantsBody = false;
        for (finishing = 0; finishing < path.size(); finishing++) {
          var e = path.get(finishing);
          try {
            e.instance().headerFilter(ctx, response);
            wantsBody |= e.instance().wantsBody(ctx);
          } catch (RuntimeException ex) {
            simulatedFailure(e, "header filter", ex);
          }
        }
        if (wantsBody) {
          for (finishing = 0; finishing < path.size(); finishing++) {
            var e = path.get(finishing);
            try {
              if (e.instance().wantsBody(ctx)) {
                body = e.instance().bodyFilter(ctx, body);
              }
            } catch (RuntimeException ex) {
              simulatedFailure(e, "body filter", ex);
            }
          }
        }
        // Streaming body filters (gzip, grpc-web, grpc-transcode, proxy-cache's store) are not
        // run: their output is not text, and proxy-cache's would write the cache. Said in the
        // node's step; the body shown is the one before them.
        for (finishing = 0; finishing < path.size(); finishing++) {
          var e = path.get(finishing);
          try {
            var stream = e.instance().bodyStream(ctx);
            if (stream != null) {
              stream.abort();
              simulated(
                  "its body filter (the body as it streams) is not applied in a dry-run: the"
                      + " response body is the one before it, the headers are as it set them");
            }
          } catch (RuntimeException ex) {
            simulatedFailure(e, "body stream", ex);
          }
        }
        ctx.answered(response.status().code(), body.length, respond == null ? "dry-run" : null);
        for (finishing = 0; finishing < path.size(); finishing++) {
          var e = path.get(finishing);
          try {
            e.instance().log(ctx);
          } catch (RuntimeException ex) {
            simulatedFailure(e, "log phase", ex);
          }
        }
        finishing = -1;
        var r = out.putObject("response");
        r.put("status", response.status().code());
        var h = r.putObject("headers");
        for (var name : response.headers().names()) {
          var values = response.headers().getAll(name);
          h.put(name.toLowerCase(java.util.Locale.ROOT), String.join(", ", values));
        }
        r.put("body", new String(body, StandardCharsets.UTF_8));
        done.complete(out);
      } catch (RuntimeException e) {
        done.completeExceptionally(e);
      }
    }

    private void simulatedFailure(PluginChain.Entry e, String where, RuntimeException ex) {
      out.withArray("warnings").add(e.name() + ": " + where + " failed: " + ex);
    }

    @Override
    public void logged(String plugin, JsonNode entry) {
      var l = logs.addObject();
      l.put("plugin", plugin);
      var at = finishing >= 0 ? pathIds.get(finishing) : nodeOf(plugin);
      if (at != null) {
        l.put("node", at);
      }
      l.set("entry", entry);
    }

    private String nodeOf(String plugin) {
      for (int i = path.size() - 1; i >= 0; i--) {
        if (path.get(i).name().equals(plugin)) {
          return pathIds.get(i);
        }
      }
      return null;
    }

    @Override
    public void simulated(String what) {
      if (finishing >= 0 && finishing < steps.size()) {
        // The response or log phase of a node whose step is written: added to that step.
        var step = (ObjectNode) steps.get(finishing);
        var before = step.path("simulated").asText("");
        step.put("simulated", before.isEmpty() ? what : before + "; " + what);
      } else if (simulated != null) {
        simulated.add(what);
      }
    }
  }
}
