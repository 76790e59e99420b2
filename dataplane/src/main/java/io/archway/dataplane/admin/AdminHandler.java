package io.archway.dataplane.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Admin API's one handler, on an event loop: checks the client's address, its {@code Host} and
 * {@code Origin} ({@link AdminBrowserCheck}) and its key, copies the request, and hands it to the
 * admin thread; the answer comes back to the channel's loop with {@code eventLoop().execute}.
 * Nothing here waits for the store.
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  static final String BASE = "/apisix/admin/";
  private static final Logger audit = LoggerFactory.getLogger("io.archway.dataplane.admin.audit");

  private final AdminAuth auth;
  private final Executor admin;
  private final Function<AdminRequest, CompletionStage<AdminResponse>> api;
  private final AdminMetrics metrics;
  private final boolean oneRequest;
  private final StudioAssets studio = StudioAssets.bundled();

  /**
   * @param oneRequest close after each answer: on the HTTP port a connection taken over for the
   *     Admin API must not carry the client's next, ordinary request to it
   */
  AdminHandler(
      AdminAuth auth,
      Executor admin,
      Function<AdminRequest, CompletionStage<AdminResponse>> api,
      AdminMetrics metrics,
      boolean oneRequest) {
    this.oneRequest = oneRequest;
    this.auth = auth;
    this.admin = admin;
    this.api = api;
    this.metrics = metrics;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    boolean keepAlive = !oneRequest && HttpUtil.isKeepAlive(req);
    var method = req.method().name();
    var remote = (InetSocketAddress) ctx.channel().remoteAddress();
    var client = remote.getAddress().getHostAddress();
    if (!req.decoderResult().isSuccess()) {
      reply(ctx, false, "", method, AdminResponse.error(400, "bad request"));
      return;
    }
    var query = new QueryStringDecoder(req.uri());
    var path = query.path();
    if (!auth.allows(remote.getAddress())) {
      reply(ctx, false, path, method, AdminResponse.error(403, "client address not allowed"));
      return;
    }
    var browser =
        auth.browserRefusal(
            req.headers().get(HttpHeaderNames.HOST), req.headers().get(HttpHeaderNames.ORIGIN));
    if (browser != null) {
      if (!method.equals("GET") && !method.equals("HEAD")) {
        audit.info("refused {} {} from {}: {}", method, path, client, browser);
      }
      reply(ctx, false, path, method, AdminResponse.error(403, browser));
      return;
    }
    if (StudioAssets.owns(path)) {
      inOrder(ctx, () -> done(() -> write(ctx, keepAlive, studio.answer(method, path))));
      return;
    }
    if (!path.startsWith(BASE) && !path.equals("/apisix/admin")) {
      reply(ctx, keepAlive, path, method, AdminResponse.error(404, "404 Route Not Found"));
      return;
    }
    var key = req.headers().get("X-API-KEY");
    if (key == null) {
      var p = query.parameters().get("api_key");
      key = p == null || p.isEmpty() ? null : p.get(0);
    }
    boolean writes = !method.equals("GET") && !method.equals("HEAD");
    var decision = auth.check(key, writes);
    if (!decision.allowed()) {
      if (writes) {
        audit.info("refused {} {} from {}: {}", method, path, client, decision.status());
      }
      reply(
          ctx, keepAlive, path, method, AdminResponse.error(decision.status(), decision.message()));
      return;
    }
    var request =
        new AdminRequest(
            method,
            path,
            query.parameters(),
            req.headers().copy(),
            ByteBufUtil.getBytes(req.content()),
            decision.role(),
            client);
    answer(
        ctx,
        keepAlive,
        path,
        method,
        () ->
            CompletableFuture.supplyAsync(() -> api.apply(request), admin)
                .thenCompose(s -> s)
                .exceptionally(AdminHandler::internalError)
                .thenApply(
                    res -> {
                      if (writes) {
                        audit.info(
                            "{} {} by {} from {}: {}",
                            method,
                            path,
                            decision.role().name().toLowerCase(),
                            client,
                            res.status());
                      }
                      return res;
                    }));
  }

  /**
   * Answers in the order the requests came (a pipelining client gets its answers in order): each
   * answer is written, on the channel's loop, after the one before it.
   */
  private void answer(
      ChannelHandlerContext ctx,
      boolean keepAlive,
      String path,
      String method,
      java.util.function.Supplier<CompletionStage<AdminResponse>> work) {
    inOrder(
        ctx,
        () ->
            CompletableFuture.<Void>completedFuture(null)
                .thenCompose(v -> work.get())
                .exceptionally(AdminHandler::internalError)
                .thenApply(res -> () -> send(ctx, keepAlive, path, method, res)));
  }

  private void inOrder(
      ChannelHandlerContext ctx,
      java.util.function.Supplier<
              CompletionStage<java.util.function.Supplier<io.netty.channel.ChannelFuture>>>
          work) {
    var loop = ctx.channel().eventLoop();
    var attr = ctx.channel().attr(LAST);
    var before = attr.get() == null ? CompletableFuture.<Void>completedFuture(null) : attr.get();
    var written =
        before
            .thenCompose(v -> work.get())
            .thenCompose(
                write -> {
                  var done = new CompletableFuture<Void>();
                  loop.execute(() -> write.get().addListener(f -> done.complete(null)));
                  return done;
                });
    attr.set(written);
  }

  private static CompletionStage<java.util.function.Supplier<io.netty.channel.ChannelFuture>> done(
      java.util.function.Supplier<io.netty.channel.ChannelFuture> write) {
    return CompletableFuture.completedFuture(write);
  }

  private static final io.netty.util.AttributeKey<CompletableFuture<Void>> LAST =
      io.netty.util.AttributeKey.valueOf("archway-admin-last-answer");

  private void reply(
      ChannelHandlerContext ctx, boolean keepAlive, String path, String method, AdminResponse r) {
    answer(ctx, keepAlive, path, method, () -> CompletableFuture.completedFuture(r));
  }

  private static AdminResponse internalError(Throwable t) {
    var cause =
        t instanceof java.util.concurrent.CompletionException && t.getCause() != null
            ? t.getCause()
            : t;
    if (cause instanceof AdminStore.Conflict c) {
      return AdminResponse.error(409, c.getMessage());
    }
    LoggerFactory.getLogger(AdminHandler.class).warn("admin call failed", cause);
    return AdminResponse.error(500, "internal error: " + cause.getClass().getSimpleName());
  }

  private io.netty.channel.ChannelFuture send(
      ChannelHandlerContext ctx, boolean keepAlive, String path, String method, AdminResponse r) {
    metrics.count(AdminMetrics.resource(path), method, r.status());
    byte[] bytes;
    // A bare string is answered as text, as APISIX answers "done" to plugins/reload.
    boolean text = r.body() != null && r.body().isTextual();
    try {
      bytes =
          text
              ? r.body().asText().getBytes(java.nio.charset.StandardCharsets.UTF_8)
              : io.archway.model.ModelJson.mapper().writeValueAsBytes(r.body());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      bytes =
          "{\"error_msg\":\"internal error\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    var res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(r.status()),
            method.equals("HEAD") ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, text ? "text/plain; charset=utf-8" : "application/json")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    r.headers().forEach((k, v) -> res.headers().set(k, v));
    return write(ctx, keepAlive, res);
  }

  private static io.netty.channel.ChannelFuture write(
      ChannelHandlerContext ctx,
      boolean keepAlive,
      io.netty.handler.codec.http.FullHttpResponse res) {
    HttpUtil.setKeepAlive(res, keepAlive);
    var done = ctx.writeAndFlush(res);
    if (!keepAlive) {
      done.addListener(ChannelFutureListener.CLOSE);
    }
    return done;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
