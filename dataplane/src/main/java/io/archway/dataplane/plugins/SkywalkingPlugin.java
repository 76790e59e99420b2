package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.plugins.Tracing.Span;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;

/**
 * skywalking: a SkyWalking segment per sampled request, as APISIX's plugin (skywalking-nginx-lua)
 * makes it: an entry span (operation name the path, component 6000 "Nginx", layer Http, tags {@code
 * http.method}, {@code http.params}, {@code http.status}; an error when the status is 500 or more),
 * and an exit span to {@code upstream service} from the rewrite phase until the upstream answered.
 * The client's {@code sw8} context becomes the entry span's cross-process reference (same trace);
 * the upstream gets the exit span's {@code sw8} in its place. Segments go as a JSON array to
 * SkyWalking's HTTP reporting API ({@code POST <endpoint_addr>/v3/segments}) every {@code
 * report_interval} seconds (or at 1000), off the event loop. {@code service_name}, {@code
 * service_instance_name} ({@code $hostname} for this machine's name), {@code endpoint_addr} and
 * {@code report_interval} are {@code plugin_metadata/skywalking}'s.
 *
 * <p>Not as APISIX: the instance properties and keep-alive calls to {@code /v3/management} are not
 * made (the OAP then lists the instance from its segments alone).
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class SkywalkingPlugin implements Plugin<SkywalkingPlugin.Config> {

  /** The configuration; schema {@code skywalking.json}. */
  public record Config(double sampleRatio) {}

  private static final int NGINX_COMPONENT = 6000;
  private static final String PEER = "upstream service";

  @Override
  public String name() {
    return "skywalking";
  }

  @Override
  public int priority() {
    return 12010;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.HEADER_FILTER, Phase.LOG);
  }

  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    Tracing.metadata(name(), value);
  }

  /** The metadata's values, defaults filled in. */
  record Settings(String service, String instance, String endpoint, long intervalMillis) {
    static Settings of(ObjectNode meta) {
      var m = Tracing.metadata("skywalking", meta);
      var instance = m.path("service_instance_name").asText();
      return new Settings(
          m.path("service_name").asText(),
          "$hostname".equals(instance) ? LogEntries.hostName() : instance,
          m.path("endpoint_addr").asText(),
          1000L * Math.max(1, m.path("report_interval").asInt(3)));
    }
  }

  /** The client's {@code sw8}: {@code 1-TRACE-SEGMENT-SPAN-SERVICE-INSTANCE-ENDPOINT-ADDRESS}. */
  record Sw8(
      String traceId,
      String segmentId,
      int spanId,
      String service,
      String instance,
      String endpoint,
      String address) {

    static Sw8 parse(String sw8) {
      if (sw8 == null) {
        return null;
      }
      var p = sw8.split("-", -1);
      if (p.length != 8 || !"1".equals(p[0])) {
        return null;
      }
      try {
        return new Sw8(
            decode(p[1]),
            decode(p[2]),
            Integer.parseInt(p[3]),
            decode(p[4]),
            decode(p[5]),
            decode(p[6]),
            decode(p[7]));
      } catch (IllegalArgumentException bad) {
        return null; // not a context: a new trace
      }
    }

    private static String decode(String s) {
      // Agents write standard base64; accept the URL-safe alphabet too.
      var dec = s.indexOf('-') >= 0 || s.indexOf('_') >= 0 ? Base64.getUrlDecoder() : null;
      var bytes = (dec != null ? dec : Base64.getDecoder()).decode(s);
      return new String(bytes, StandardCharsets.UTF_8);
    }

    static String encode(String s) {
      return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A sampled request's segment until its log phase. */
  static final class Segment {
    final Settings settings;
    final String traceId;
    final String segmentId = newId();
    final Sw8 parent;
    final Span entry;
    final Span exit;

    Segment(Settings settings, String traceId, Sw8 parent, Span entry, Span exit) {
      this.settings = settings;
      this.traceId = traceId;
      this.parent = parent;
      this.entry = entry;
      this.exit = exit;
    }
  }

  /** A SkyWalking id: 32 hex digits, as its agents' global ids are opaque strings. */
  static String newId() {
    return Tracing.hexId(16);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    var settings = services.shared("skywalking.settings", () -> new Tracing.Cached<>(Settings::of));
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        if (!Tracing.sampled(conf.sampleRatio())) {
          return Outcome.CONTINUE;
        }
        var s = settings.get(services.metadata("skywalking"));
        var headers = ctx.request().headers();
        var vars = ctx.vars();
        var parent = Sw8.parse(headers.get("sw8"));
        var uri = vars.get("uri");
        var entry =
            new Span(uri, "0", "-1", Tracing.startNanos(ctx))
                .tag("http.method", vars.get("request_method"))
                .tag(
                    "http.params",
                    vars.scheme() + "://" + vars.get("host") + vars.get("request_uri"));
        var exit = new Span(uri, "1", "0", Tracing.nowNanos());
        var seg = new Segment(s, parent != null ? parent.traceId() : newId(), parent, entry, exit);
        headers.set(
            "sw8",
            String.join(
                "-",
                "1",
                Sw8.encode(seg.traceId),
                Sw8.encode(seg.segmentId),
                "1",
                Sw8.encode(s.service()),
                Sw8.encode(s.instance()),
                Sw8.encode(uri),
                Sw8.encode(PEER)));
        ctx.state(this, seg);
        return Outcome.CONTINUE;
      }

      @Override
      public void headerFilter(PluginContext ctx, HttpResponse response) {
        Segment seg = ctx.state(this);
        if (seg != null && seg.exit.end == 0) {
          seg.exit.end = Tracing.nowNanos();
          seg.exit.tag("http.status", response.status().code());
        }
      }

      @Override
      public void log(PluginContext ctx) {
        Segment seg = ctx.state(this);
        if (seg == null) {
          return;
        }
        long now = Tracing.nowNanos();
        if (seg.exit.end == 0) {
          seg.exit.end = now;
        }
        int status = ctx.status();
        seg.entry.tag("http.status", status);
        seg.entry.end = now;
        var doc = ModelJson.mapper().createObjectNode();
        doc.put("traceId", seg.traceId)
            .put("traceSegmentId", seg.segmentId)
            .put("service", seg.settings.service())
            .put("serviceInstance", seg.settings.instance());
        var spans = doc.putArray("spans");
        var exit = span(spans.addObject(), seg.exit, "Exit", false);
        exit.put("peer", PEER);
        var entry = span(spans.addObject(), seg.entry, "Entry", status >= 500);
        if (seg.parent != null) {
          var p = seg.parent;
          entry
              .putArray("refs")
              .addObject()
              .put("refType", "CrossProcess")
              .put("traceId", p.traceId())
              .put("parentTraceSegmentId", p.segmentId())
              .put("parentSpanId", p.spanId())
              .put("parentService", p.service())
              .put("parentServiceInstance", p.instance())
              .put("parentEndpoint", p.endpoint())
              .put("networkAddressUsedAtPeer", p.address());
        }
        doc.put("isSizeLimited", false);
        Tracing.offer(reporter(services, settings, seg.settings), name(), services, doc);
      }
    };
  }

  /**
   * The reporter for the {@code report_interval} in force: one per interval (a change makes a new
   * one; the old one sends what it holds), shared by every route.
   */
  private static LogBatcher reporter(
      PluginServices services, Tracing.Cached<Settings> settings, Settings now) {
    return services.shared(
        "skywalking.reporter." + now.intervalMillis(),
        () ->
            Tracing.reporter(
                "skywalking",
                () -> {
                  var s = settings.get(services.metadata("skywalking"));
                  return Tracing.post(
                      "endpoint_addr",
                      s.endpoint() + "/v3/segments",
                      Duration.ofSeconds(3),
                      services);
                },
                1000,
                now.intervalMillis(),
                services));
  }

  private static ObjectNode span(ObjectNode o, Span s, String type, boolean error) {
    o.put("operationName", s.name)
        .put("startTime", s.startMillis())
        .put("endTime", s.endMillis())
        .put("spanId", Integer.parseInt(s.id))
        .put("parentSpanId", Integer.parseInt(s.parentId))
        .put("spanType", type)
        .put("spanLayer", "Http")
        .put("componentId", NGINX_COMPONENT)
        .put("isError", error)
        .put("skipAnalysis", false);
    var tags = o.putArray("tags");
    s.tags.forEach((k, v) -> tags.addObject().put("key", k).put("value", v));
    return o;
  }
}
