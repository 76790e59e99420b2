package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.PluginServices;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.IdGenerator;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The opentelemetry plugin's export, one per dataplane (in {@link PluginServices#shared}): an SDK
 * tracer provider built from {@code plugin_metadata/opentelemetry} (the OTLP/HTTP exporter to
 * {@code collector.address}{@code /v1/traces} with its timeout and headers, the batch span
 * processor's sizes and interval, the resource), replaced when the metadata changes (the old one
 * exports what it holds and stops). The exporter sends with the JDK's HttpClient (the SDK's
 * sender-jdk) from the batch processor's own thread; requests only queue spans.
 *
 * <p>The sampler and the trace id of a new trace are per request (the route's {@code sampler}, the
 * client's {@code X-Request-Id} with {@code trace_id_source: x-request-id}), while the SDK takes
 * them from the provider: both are handed over in a thread-local around the span's start, which
 * runs on the request's event loop, never across threads.
 */
final class OtelExport implements AutoCloseable {

  private static final String SCOPE = "opentelemetry-lua"; // APISIX's tracer's name

  private static final ThreadLocal<Sampler> SAMPLER = new ThreadLocal<>();
  private static final ThreadLocal<String> TRACE_ID = new ThreadLocal<>();

  /** What one metadata value built. */
  private record Built(
      SdkTracerProvider provider, Tracer tracer, boolean xRequestId, boolean vars) {}

  private volatile Built built;

  static OtelExport of(PluginServices services) {
    return services.shared(
        "opentelemetry.export",
        () -> {
          var e = new OtelExport();
          e.apply(Tracing.metadata("opentelemetry", services.metadata("opentelemetry")));
          return e;
        });
  }

  /** Builds the export for {@code meta} (checked, defaults filled) and stops the one before. */
  synchronized void apply(ObjectNode meta) {
    var next = build(meta);
    var old = built;
    built = next;
    if (old != null) {
      old.provider().shutdown(); // exports what it holds, on its own thread
    }
  }

  boolean setVariables() {
    return built.vars();
  }

  /** Starts the request's server span (on the event loop). */
  Span start(
      String name,
      Context parent,
      Sampler sampler,
      Attributes attributes,
      long startNanos,
      String requestId) {
    var b = built;
    SAMPLER.set(sampler);
    if (b.xRequestId() && requestId != null) {
      var id = requestId.replace("-", "").toLowerCase(Locale.ROOT);
      if (Tracing.isHexId(id, 32)) {
        TRACE_ID.set(id);
      }
    }
    try {
      return b.tracer()
          .spanBuilder(name)
          .setParent(parent)
          .setSpanKind(SpanKind.SERVER)
          .setAllAttributes(attributes)
          .setStartTimestamp(startNanos, TimeUnit.NANOSECONDS)
          .startSpan();
    } finally {
      SAMPLER.remove();
      TRACE_ID.remove();
    }
  }

  private static Built build(ObjectNode meta) {
    var collector = meta.path("collector");
    var address = collector.path("address").asText("127.0.0.1:4318");
    var base = address.contains("://") ? address : "http://" + address;
    var exporter =
        OtlpHttpSpanExporter.builder()
            .setEndpoint(stripSlash(base) + "/v1/traces")
            .setTimeout(
                Duration.ofSeconds(Math.max(1, collector.path("request_timeout").asInt(3))));
    collector
        .path("request_headers")
        .properties()
        .forEach(e -> exporter.addHeader(e.getKey(), e.getValue().asText()));
    var bsp = meta.path("batch_span_processor");
    var processor =
        BatchSpanProcessor.builder(exporter.build())
            .setMaxQueueSize(bsp.path("max_queue_size").asInt(2048))
            .setMaxExportBatchSize(bsp.path("max_export_batch_size").asInt(256))
            // APISIX's inactive_timeout is the interval batches go out at; a batch waits no
            // longer than batch_timeout either.
            .setScheduleDelay(
                Duration.ofMillis(
                    (long)
                        (1000
                            * Math.min(
                                bsp.path("inactive_timeout").asDouble(2),
                                bsp.path("batch_timeout").asDouble(5)))))
            .build();
    AttributesBuilder resource =
        Attributes.builder()
            .put(AttributeKey.stringKey("service.name"), "APISIX")
            .put(AttributeKey.stringKey("hostname"), LogEntries.hostName());
    meta.path("resource").properties().forEach(e -> putValue(resource, e.getKey(), e.getValue()));
    var provider =
        SdkTracerProvider.builder()
            .setResource(Resource.create(resource.build()))
            .setSampler(new RequestSampler())
            .setIdGenerator(new RequestIds())
            .addSpanProcessor(processor)
            .build();
    return new Built(
        provider,
        provider.get(SCOPE),
        "x-request-id".equals(meta.path("trace_id_source").asText()),
        meta.path("set_ngx_var").asBoolean(false));
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  private static void putValue(AttributesBuilder b, String key, JsonNode v) {
    if (v.isBoolean()) {
      b.put(AttributeKey.booleanKey(key), v.asBoolean());
    } else if (v.isIntegralNumber()) {
      b.put(AttributeKey.longKey(key), v.asLong());
    } else if (v.isNumber()) {
      b.put(AttributeKey.doubleKey(key), v.asDouble());
    } else {
      b.put(AttributeKey.stringKey(key), v.asText());
    }
  }

  @Override
  public void close() {
    var b = built;
    if (b != null) {
      b.provider().shutdown().join(2, TimeUnit.SECONDS);
    }
  }

  /** The route's sampler, handed over by {@link #start}. */
  private static final class RequestSampler implements Sampler {
    @Override
    public SamplingResult shouldSample(
        Context parentContext,
        String traceId,
        String name,
        SpanKind spanKind,
        Attributes attributes,
        List<LinkData> parentLinks) {
      var s = SAMPLER.get();
      return s == null
          ? SamplingResult.drop()
          : s.shouldSample(parentContext, traceId, name, spanKind, attributes, parentLinks);
    }

    @Override
    public String getDescription() {
      return "ApisixRouteSampler";
    }
  }

  /** Random ids, or the request's id as a new trace's id ({@code trace_id_source}). */
  private static final class RequestIds implements IdGenerator {
    @Override
    public String generateSpanId() {
      return IdGenerator.random().generateSpanId();
    }

    @Override
    public String generateTraceId() {
      var forced = TRACE_ID.get();
      return forced != null ? forced : IdGenerator.random().generateTraceId();
    }
  }
}
