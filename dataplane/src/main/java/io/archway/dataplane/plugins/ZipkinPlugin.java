package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugins.Tracing.Span;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * zipkin: B3 propagation and Zipkin spans, as APISIX's plugin. The client's context comes from the
 * single {@code b3} field (removed, as APISIX does; a malformed one is 400) or from {@code
 * X-B3-TraceId}/{@code SpanId}/{@code ParentSpanId}/{@code Sampled}/{@code Flags}; the client's
 * decision ({@code X-B3-Sampled}, or {@code X-B3-Flags: 1}, debug) overrides {@code sample_ratio}.
 * An unsampled request goes upstream with {@code X-B3-Sampled: 0}. A sampled one gets the spans of
 * {@code span_version}: 2, {@code apisix.request} (server; tags {@code component}, {@code
 * http.method}, {@code http.url}, {@code http.status_code}, the client as remote endpoint) with
 * {@code apisix.proxy} (until the upstream answered) and {@code apisix.response_span} (until the
 * response was sent); 1, {@code apisix.rewrite}, {@code apisix.access}, {@code apisix.proxy} and
 * {@code apisix.body_filter} under it. The upstream gets the proxy span's context as {@code
 * X-B3-*}. Spans are reported as Zipkin v2 JSON arrays POSTed to {@code endpoint}, batched off the
 * event loop (at most 1000 a POST, or every second).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class ZipkinPlugin implements Plugin<ZipkinPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(ZipkinPlugin.class);

  /** The configuration; schema {@code zipkin.json}. */
  public record Config(
      String endpoint,
      double sampleRatio,
      String serviceName,
      String serverAddr,
      int spanVersion) {}

  @Override
  public String name() {
    return "zipkin";
  }

  @Override
  public int priority() {
    return 12011;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.ACCESS, Phase.HEADER_FILTER, Phase.LOG);
  }

  /** The client's B3 context: ids as sent (validated), {@code sampled} "0"/"1"/"true"/... */
  record B3(String traceId, String spanId, String parentId, String sampled, String flags) {

    /**
     * The single {@code b3} field: {@code sampled} alone ({@code 0}, {@code 1}, {@code d}) or
     * {@code traceid-spanid[-sampled[-parentspanid]]}; {@code null} when malformed.
     */
    static B3 single(String b3) {
      if (b3.length() == 1) {
        return "01d".contains(b3) ? new B3(null, null, null, b3, null) : null;
      }
      var p = b3.split("-", -1);
      if (p.length < 2 || p.length > 4) {
        return null;
      }
      if (!Tracing.isHexId(p[0], 16, 32) || !Tracing.isHexId(p[1], 16)) {
        return null;
      }
      String sampled = null;
      String parent = null;
      if (p.length >= 3) {
        if (p[2].length() != 1 || !"01d".contains(p[2])) {
          return null;
        }
        sampled = p[2];
      }
      if (p.length == 4) {
        if (!Tracing.isHexId(p[3], 16)) {
          return null;
        }
        parent = p[3];
      }
      return new B3(p[0], p[1], parent, sampled, null);
    }

    static B3 multi(HttpHeaders h) {
      var trace = h.get("x-b3-traceid");
      var span = h.get("x-b3-spanid");
      // Ids that are not ids start a new trace, as APISIX's extractor does.
      boolean ok = Tracing.isHexId(trace, 16, 32) && Tracing.isHexId(span, 16);
      var parent = h.get("x-b3-parentspanid");
      return new B3(
          ok ? trace : null,
          ok ? span : null,
          ok && Tracing.isHexId(parent, 16) ? parent : null,
          h.get("x-b3-sampled"),
          h.get("x-b3-flags"));
    }
  }

  /** A sampled request's spans until its log phase. */
  static final class Trace {
    final String traceId;
    final boolean debug;
    final String flags;
    final Span request;
    Span proxy;
    Span response;
    Span bodyFilter;
    long rewriteEnd;
    final List<Span> finished = new ArrayList<>(5);

    Trace(String traceId, boolean debug, String flags, Span request) {
      this.traceId = traceId;
      this.debug = debug;
      this.flags = flags;
      this.request = request;
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var post = Tracing.post("endpoint", conf.endpoint(), Duration.ofSeconds(10), services);
    var reporter = Tracing.reporter(name(), () -> post, 1000, 1000, services);
    boolean v1 = conf.spanVersion() == 1;
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var headers = ctx.request().headers();
        var single = headers.get("b3");
        B3 in;
        if (single != null) {
          headers.remove("b3");
          in = B3.single(single.trim());
          if (in == null) {
            log.debug("zipkin: invalid b3 header: {}", single);
            return Outcome.respond(
                400,
                new DefaultHttpHeaders().set("content-type", "application/json"),
                Outcome.errorBody(400));
          }
          if ("d".equals(in.sampled())) {
            headers.set("x-b3-flags", "1");
            in = new B3(in.traceId(), in.spanId(), in.parentId(), "1", "1");
          }
        } else {
          in = B3.multi(headers);
        }
        boolean debug = "1".equals(headers.get("x-b3-flags"));
        var s = in.sampled();
        double ratio = conf.sampleRatio();
        if (debug || "1".equals(s) || "true".equals(s)) {
          ratio = 1;
        } else if ("0".equals(s) || "false".equals(s)) {
          ratio = 0;
        }
        if (!Tracing.sampled(ratio)) {
          headers.set("x-b3-sampled", "0");
          return Outcome.CONTINUE;
        }
        long start = Tracing.startNanos(ctx);
        var traceId = in.traceId() != null ? in.traceId() : Tracing.hexId(16);
        var vars = ctx.vars();
        var request =
            new Span("apisix.request", Tracing.hexId(8), in.spanId(), start)
                .tag("component", "apisix")
                .tag("http.method", vars.get("request_method"))
                .tag("http.url", vars.get("request_uri"));
        var t = new Trace(traceId, debug, headers.get("x-b3-flags"), request);
        if (v1) {
          var rewrite = new Span("apisix.rewrite", Tracing.hexId(8), request.id, start);
          rewrite.end = t.rewriteEnd = Tracing.nowNanos();
          t.finished.add(rewrite);
        } else {
          t.proxy = new Span("apisix.proxy", Tracing.hexId(8), request.id, start);
        }
        ctx.state(this, t);
        return Outcome.CONTINUE;
      }

      @Override
      public Outcome access(PluginContext ctx) {
        Trace t = ctx.state(this);
        if (t == null) {
          return Outcome.CONTINUE;
        }
        long now = Tracing.nowNanos();
        if (v1) {
          var access = new Span("apisix.access", Tracing.hexId(8), t.request.id, t.rewriteEnd);
          access.end = now;
          t.finished.add(access);
          t.proxy = new Span("apisix.proxy", Tracing.hexId(8), t.request.id, now);
        }
        var headers = ctx.request().headers();
        headers.set("x-b3-traceid", t.traceId);
        headers.set("x-b3-parentspanid", t.proxy.parentId);
        headers.set("x-b3-spanid", t.proxy.id);
        if (t.flags != null) {
          headers.set("x-b3-flags", t.flags);
          headers.remove("x-b3-sampled");
        } else {
          headers.set("x-b3-sampled", "1");
        }
        return Outcome.CONTINUE;
      }

      @Override
      public void headerFilter(PluginContext ctx, HttpResponse response) {
        Trace t = ctx.state(this);
        if (t == null || t.proxy == null) {
          return;
        }
        long now = Tracing.nowNanos();
        if (v1) {
          t.bodyFilter = new Span("apisix.body_filter", Tracing.hexId(8), t.proxy.id, now);
        } else if (t.response == null) {
          t.proxy.end = now;
          t.response = new Span("apisix.response_span", Tracing.hexId(8), t.request.id, now);
        }
      }

      @Override
      public void log(PluginContext ctx) {
        Trace t = ctx.state(this);
        if (t == null) {
          return;
        }
        long now = Tracing.nowNanos();
        for (var span : new Span[] {t.bodyFilter, t.proxy, t.response}) {
          if (span != null) {
            if (span.end == 0) {
              span.end = now;
            }
            t.finished.add(span);
          }
        }
        t.request.tag("http.status_code", ctx.status());
        t.request.end = now;
        t.finished.add(t.request);
        var local = ModelJson.mapper().createObjectNode().put("serviceName", conf.serviceName());
        if (conf.serverAddr() != null) {
          local.put("ipv4", conf.serverAddr());
        }
        var port = ctx.vars().get("server_port");
        if (port != null && !port.isEmpty()) {
          local.put("port", Integer.parseInt(port));
        }
        for (var span : t.finished) {
          var z = ModelJson.mapper().createObjectNode();
          z.put("traceId", t.traceId).put("name", span.name);
          if (span.parentId != null) {
            z.put("parentId", span.parentId);
          }
          z.put("id", span.id);
          if (span == t.request) {
            z.put("kind", "SERVER");
          }
          z.put("timestamp", span.startMicros()).put("duration", span.durationMicros());
          if (t.debug) {
            z.put("debug", true);
          }
          z.set("localEndpoint", local);
          if (span == t.request) {
            var remote = z.putObject("remoteEndpoint");
            var addr = ctx.vars().get("remote_addr");
            remote.put(addr != null && addr.contains(":") ? "ipv6" : "ipv4", addr);
            remote.put("port", Integer.parseInt(ctx.vars().get("remote_port")));
          }
          var tags = z.putObject("tags");
          span.tags.forEach(tags::put);
          Tracing.offer(reporter, name(), services, z);
        }
      }
    };
  }
}
