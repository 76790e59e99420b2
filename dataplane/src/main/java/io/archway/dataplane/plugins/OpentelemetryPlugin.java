package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * opentelemetry: a server span per request, as APISIX's plugin makes it (name {@code <method>
 * <route path>}, attributes {@code net.host.name}, {@code http.method}, {@code http.scheme}, {@code
 * http.target}, {@code http.user_agent}, {@code apisix.route_id}, {@code http.route}, {@code
 * apisix.service_id}, the {@code additional_attributes} variables and the {@code
 * additional_header_prefix_attributes} fields, {@code http.status_code} at the end, an error status
 * for a 5xx from the upstream). The client's W3C {@code traceparent}/{@code tracestate} is the
 * parent, and the span's context replaces them on the request upstream, sampled or not. The {@code
 * sampler} is the route's; the collector, resource, batching and trace id source are {@code
 * plugin_metadata/opentelemetry}'s ({@link OtelExport}). The span is ended on the event loop and
 * queued to the SDK's batch span processor, which exports from its own thread.
 *
 * <p>Not as APISIX: {@code apisix.route_name} and {@code apisix.service_name} are not set (the
 * exchange knows ids only); {@code http.status_code} is the status sent to the client (the
 * upstream's, or the gateway's or a plugin's answer).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class OpentelemetryPlugin implements Plugin<OpentelemetryPlugin.Config> {

  /** The configuration; schema {@code opentelemetry.json}. */
  public record Config(
      SamplerConf sampler,
      List<String> additionalAttributes,
      List<String> additionalHeaderPrefixAttributes) {}

  /** {@code sampler}: always_on, always_off, trace_id_ratio, parent_base. */
  public record SamplerConf(String name, SamplerOptions options) {}

  /** {@code sampler.options}. */
  public record SamplerOptions(Double fraction, RootSampler root) {}

  /** {@code sampler.options.root}: parent_base's sampler for a request without a parent. */
  public record RootSampler(String name, RootOptions options) {}

  /** {@code sampler.options.root.options}. */
  public record RootOptions(Double fraction) {}

  @Override
  public String name() {
    return "opentelemetry";
  }

  @Override
  public int priority() {
    return 12009;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.LOG);
  }

  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    var checked = Tracing.metadata(name(), value); // throws before anything changes
    OtelExport.of(services).apply(checked);
  }

  static final TextMapGetter<HttpHeaders> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
          return carrier.names();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  static final TextMapSetter<HttpHeaders> SETTER = (carrier, key, value) -> carrier.set(key, value);

  /** The SDK sampler for a route's {@code sampler}. */
  static Sampler sampler(SamplerConf conf) {
    if (conf == null) {
      return Sampler.alwaysOff();
    }
    var opts = conf.options();
    double fraction = opts == null || opts.fraction() == null ? 0 : opts.fraction();
    return switch (conf.name() == null ? "always_off" : conf.name()) {
      case "always_on" -> Sampler.alwaysOn();
      case "trace_id_ratio" -> Sampler.traceIdRatioBased(clamp(fraction));
      case "parent_base" -> {
        var root = opts == null ? null : opts.root();
        Sampler rootSampler;
        if (root == null || root.name() == null) {
          rootSampler = Sampler.alwaysOff();
        } else {
          double f =
              root.options() == null || root.options().fraction() == null
                  ? 0
                  : root.options().fraction();
          rootSampler =
              switch (root.name()) {
                case "always_on" -> Sampler.alwaysOn();
                case "trace_id_ratio" -> Sampler.traceIdRatioBased(clamp(f));
                default -> Sampler.alwaysOff();
              };
        }
        yield Sampler.parentBased(rootSampler);
      }
      default -> Sampler.alwaysOff();
    };
  }

  private static double clamp(double f) {
    return Math.max(0, Math.min(1, f));
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var sampler = sampler(conf.sampler());
    var attributes =
        conf.additionalAttributes() == null
            ? List.<String>of()
            : conf.additionalAttributes().stream()
                .map(a -> a.startsWith("$") ? a.substring(1) : a)
                .toList();
    var headerPatterns = conf.additionalHeaderPrefixAttributes();
    var export = OtelExport.of(services);
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var headers = ctx.request().headers();
        var vars = ctx.vars();
        var parent =
            W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, GETTER);
        var method = vars.get("request_method");
        var name = method;
        AttributesBuilder attrs = Attributes.builder();
        put(attrs, "net.host.name", vars.get("host"));
        put(attrs, "http.method", method);
        put(attrs, "http.scheme", vars.get("scheme"));
        put(attrs, "http.target", vars.get("request_uri"));
        put(attrs, "http.user_agent", headers.get("user-agent"));
        if (ctx.routeId() != null) {
          put(attrs, "apisix.route_id", ctx.routeId());
          var paths = ctx.routePaths();
          if (!paths.isEmpty()) {
            put(attrs, "http.route", paths.get(0));
            name = method + " " + paths.get(0);
          }
        }
        put(attrs, "apisix.service_id", ctx.serviceId());
        for (var a : attributes) {
          put(attrs, a, ctx.get(a));
        }
        Tracing.headers(headers, headerPatterns, (k, v) -> put(attrs, k, v));
        var span =
            export.start(
                name,
                parent,
                sampler,
                attrs.build(),
                Tracing.startNanos(ctx),
                headers.get("x-request-id"));
        headers.remove("traceparent");
        headers.remove("tracestate");
        W3CTraceContextPropagator.getInstance().inject(parent.with(span), headers, SETTER);
        if (export.setVariables()) {
          var sc = span.getSpanContext();
          ctx.publish("opentelemetry_context_traceparent", headers.get("traceparent"));
          ctx.publish("opentelemetry_trace_id", sc.getTraceId());
          ctx.publish("opentelemetry_span_id", sc.getSpanId());
        }
        ctx.state(this, span);
        return Outcome.CONTINUE;
      }

      @Override
      public void log(PluginContext ctx) {
        Span span = ctx.state(this);
        if (span == null) {
          return;
        }
        int status = ctx.status();
        if (ctx.upstreamAddr() != null && status >= 500) {
          span.setStatus(StatusCode.ERROR, "upstream response status: " + status);
        }
        span.setAttribute(AttributeKey.longKey("http.status_code"), status);
        span.end(Tracing.nowNanos(), TimeUnit.NANOSECONDS);
      }
    };
  }

  private static void put(AttributesBuilder attrs, String key, String value) {
    if (value != null) {
      attrs.put(AttributeKey.stringKey(key), value);
    }
  }
}
