package io.archway.dataplane.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.dataplane.config.ConfigHolder;
import io.archway.dataplane.discovery.KubernetesDiscovery;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.source.ConfigSource;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code /healthz} (the process is up and not stopping), {@code /readyz} (a first full config is
 * loaded; the body says where it came from and what is wrong), {@code /metrics}, and APISIX's
 * control API's {@code /v1/healthcheck} and {@code /v1/server_info} (server-info).
 */
@ChannelHandler.Sharable
final class StatusHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private final ConfigHolder config;
  private final ConfigSource source;
  private final Metrics metrics;
  private final BooleanSupplier stopping;
  private final Upstreams upstreams;
  private final PluginServices services;

  private final Supplier<KubernetesDiscovery.Status> discovery;

  StatusHandler(
      ConfigHolder config,
      ConfigSource source,
      Metrics metrics,
      Upstreams upstreams,
      BooleanSupplier stopping,
      Supplier<KubernetesDiscovery.Status> discovery,
      PluginServices services) {
    this.services = services;
    this.discovery = discovery;
    this.config = config;
    this.upstreams = upstreams;
    this.source = source;
    this.metrics = metrics;
    this.stopping = stopping;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    if (!req.decoderResult().isSuccess()) {
      send(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad request\n");
      return;
    }
    if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
      send(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
      return;
    }
    switch (new QueryStringDecoder(req.uri()).path()) {
      case "/healthz" ->
          send(
              ctx,
              req,
              stopping.getAsBoolean()
                  ? HttpResponseStatus.SERVICE_UNAVAILABLE
                  : HttpResponseStatus.OK,
              "text/plain",
              stopping.getAsBoolean() ? "stopping\n" : "ok\n");
      case "/readyz" -> readyz(ctx, req);
      case "/v1/server_info" ->
          send(
              ctx,
              req,
              HttpResponseStatus.OK,
              "application/json",
              (services.gateway() == null ? "{}" : services.gateway().serverInfo().toString())
                  + "\n");
      case "/v1/healthcheck" ->
          send(
              ctx,
              req,
              HttpResponseStatus.OK,
              "application/json",
              upstreams.health().toPrettyString() + "\n");
      case "/metrics" ->
          send(
              ctx,
              req,
              HttpResponseStatus.OK,
              "text/plain; version=0.0.4; charset=utf-8",
              metrics.render());
      default -> send(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain", "not found\n");
    }
  }

  private void readyz(ChannelHandlerContext ctx, FullHttpRequest req) {
    var status = source.status();
    boolean shedding = metrics.overloaded();
    // The source may hold back readiness (xDS: served after the initial fetch timed out, partial).
    boolean ready = config.loaded() && status.loaded() && !stopping.getAsBoolean() && !shedding;
    var f = JsonNodeFactory.instance;
    var body = f.objectNode();
    body.put("ready", ready);
    if (shedding) {
      body.put("overloaded", true);
    }
    body.put("source", status.source());
    body.put("connected", status.connected());
    body.put("revision", config.current().revision());
    body.put("items", config.current().size());
    if (status.lastError() != null) {
      body.put("last_error", status.lastError());
    }
    var invalid = body.putObject("invalid");
    status.invalid().forEach(invalid::put);
    var d = discovery.get();
    if (d.services() > 0 || d.error() != null) {
      // Discovery does not decide readiness: without the API server the last endpoints serve.
      var k = body.putObject("discovery").putObject("kubernetes");
      k.put("services", d.services());
      k.put("watching", d.watching());
      k.put("connected", d.connected());
      if (d.error() != null) {
        k.put("error", d.error());
      }
    }
    send(
        ctx,
        req,
        ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
        "application/json",
        body.toPrettyString() + "\n");
  }

  private static void send(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      HttpResponseStatus status,
      String type,
      String body) {
    var bytes = body.getBytes(StandardCharsets.UTF_8);
    var head = req.method().equals(HttpMethod.HEAD);
    var res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            status,
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, type)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    HttpUtil.setKeepAlive(res, keepAlive);
    var done = ctx.writeAndFlush(res);
    if (!keepAlive) {
      done.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
