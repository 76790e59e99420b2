package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.HttpUtil;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * datadog: each request's metrics, batched off the event loop, sent to a DogStatsD agent over UDP
 * under APISIX's names ({@code <namespace>.request.counter}, {@code .request.latency}, {@code
 * .apisix.latency}, {@code .ingress.size}, {@code .egress.size}), tagged with {@code
 * constant_tags}, {@code route_name}, {@code consumer}, {@code balancer_ip}, {@code
 * response_status} and {@code scheme}. The agent ({@code host}, {@code port}), {@code namespace}
 * and {@code constant_tags} come from {@code plugin_metadata/datadog}, read for each batch. The
 * time spent upstream is not measured apart yet, so {@code upstream.latency} is not sent and {@code
 * apisix.latency} is the whole latency.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY)
public final class DatadogPlugin implements Plugin<DatadogPlugin.Config> {

  /** The configuration; schema {@code datadog.json}. */
  public record Config(
      boolean preferName,
      String name,
      int batchMaxSize,
      double inactiveTimeout,
      double bufferDuration,
      int maxRetryCount,
      double retryDelay)
      implements LogEntries.Batching {}

  @Override
  public String name() {
    return "datadog";
  }

  @Override
  public int priority() {
    return 495;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.LOG);
  }

  @Override
  public void metadata(ObjectNode value, PluginServices services) {
    if (value == null) {
      return;
    }
    var it = value.fieldNames();
    while (it.hasNext()) {
      var f = it.next();
      var v = value.get(f);
      var expected =
          switch (f) {
            case "host", "namespace" -> v.isTextual() ? null : "a string";
            case "port" -> v.canConvertToInt() && v.asInt() >= 0 ? null : "an integer >= 0";
            case "constant_tags" -> v.isArray() ? null : "an array of strings";
            default ->
                throw new IllegalArgumentException(
                    f + ": unknown field (expected: constant_tags, host, namespace, port)");
          };
      if (expected != null) {
        throw new IllegalArgumentException(f + ": " + v + " (expected: " + expected + ")");
      }
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var services = scope.services();
    LogBatcher.Sender sender = batch -> send(batch, services);
    var batcher = LogEntries.batcher(name(), conf, sender, services);
    return new PluginInstance() {
      @Override
      public void log(PluginContext ctx) {
        var e = ModelJson.mapper().createObjectNode();
        e.put("route", ctx.routeId());
        if (ctx.consumer() != null) {
          e.put("consumer", ctx.consumer().username());
        }
        var addr = ctx.upstreamAddr();
        if (addr != null) {
          int colon = addr.lastIndexOf(':');
          e.put("balancer_ip", colon > 0 ? addr.substring(0, colon) : addr);
        }
        e.put("status", ctx.status());
        e.put("scheme", ctx.vars().scheme());
        e.put("latency", ctx.latencyNanos() / 1e6);
        e.put("in", Math.max(0, HttpUtil.getContentLength(ctx.request(), 0L)));
        e.put("out", ctx.bytesSent());
        LogEntries.offer(batcher, name(), services, e);
      }
    };
  }

  private static void send(List<byte[]> batch, PluginServices services) throws Exception {
    var meta = services.metadata("datadog");
    var host = text(meta, "host", "127.0.0.1");
    int port =
        meta != null && meta.path("port").canConvertToInt() ? meta.get("port").asInt() : 8125;
    var namespace = text(meta, "namespace", "apisix");
    var prefix = namespace.isEmpty() ? "" : namespace + ".";
    var constant = new ArrayList<String>();
    if (meta != null && meta.get("constant_tags") != null && meta.get("constant_tags").isArray()) {
      meta.get("constant_tags").forEach(t -> constant.add(t.asText()));
    } else {
      constant.add("source:apisix");
    }
    var to = new InetSocketAddress(host, port);
    try (var socket = new DatagramSocket()) {
      for (var bytes : batch) {
        var e = ModelJson.mapper().readTree(bytes);
        var tags = new ArrayList<>(constant);
        if (!e.path("route").asText("").isEmpty()) {
          tags.add("route_name:" + e.path("route").asText());
        }
        if (e.has("consumer")) {
          tags.add("consumer:" + e.path("consumer").asText());
        }
        if (e.has("balancer_ip")) {
          tags.add("balancer_ip:" + e.path("balancer_ip").asText());
        }
        tags.add("response_status:" + e.path("status").asInt());
        tags.add("scheme:" + e.path("scheme").asText());
        var suffix = "|#" + String.join(",", tags);
        var latency = number(e.path("latency").asDouble());
        for (var line :
            List.of(
                prefix + "request.counter:1|c" + suffix,
                prefix + "request.latency:" + latency + "|h" + suffix,
                prefix + "apisix.latency:" + latency + "|h" + suffix,
                prefix + "ingress.size:" + e.path("in").asLong() + "|ms" + suffix,
                prefix + "egress.size:" + e.path("out").asLong() + "|ms" + suffix)) {
          var b = line.getBytes(StandardCharsets.UTF_8);
          socket.send(new DatagramPacket(b, b.length, to));
        }
      }
    }
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static String text(JsonNode meta, String field, String dflt) {
    return meta != null && meta.path(field).isTextual() ? meta.get(field).asText() : dflt;
  }
}
