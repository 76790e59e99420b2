package io.archway.dataplane.http;

import io.archway.dataplane.pipeline.ProxyHeaders;
import io.archway.dataplane.pipeline.RouteCall;
import io.archway.dataplane.route.RequestVars;
import io.archway.dataplane.support.Relay;
import io.archway.dataplane.upstream.NodeState;
import io.archway.dataplane.upstream.UpstreamConnection;
import io.archway.dataplane.upstream.UpstreamRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.BitSet;

/**
 * A WebSocket upgrade through the gateway: the upgrade request goes to a node on a connection of
 * its own; when the node answers 101, both connections drop their HTTP codecs and the bytes (the
 * frames, close frames included) are relayed as they are, each side read only when the other has
 * taken what was sent. A half-close on one side is passed on to the other. Any other answer is
 * relayed as a plain response and the connection closed.
 */
final class WebSocketTunnel implements UpstreamConnection.Listener {

  private final RouteCall call;
  private final ChannelHandlerContext client;
  private final HttpRequest request;
  private final RequestVars vars;
  private final UpstreamRuntime upstream;
  private final long start;
  private final BitSet tried = new BitSet();
  private NodeState node;
  private UpstreamConnection conn;
  private boolean switched;
  // A 1xx other than 101 was read: its empty end is dropped with it.
  private boolean interim;
  private boolean done;
  private int failures;
  private final java.util.List<ByteBuf> early = new java.util.ArrayList<>();
  private final WebSocketTunnels tunnels;

  WebSocketTunnel(RouteCall call, ChannelHandlerContext client, WebSocketTunnels tunnels) {
    this.call = call;
    this.tunnels = tunnels;
    this.client = client;
    this.request = call.exchange().request();
    this.vars = call.exchange().vars();
    this.upstream = call.upstream();
    this.start = call.exchange().startNanos();
  }

  static boolean isUpgrade(HttpRequest req) {
    var h = req.headers();
    return h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && h.contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }

  void start() {
    var originalHost = request.headers().get(HttpHeaderNames.HOST);
    vars.applyTarget(request);
    ProxyHeaders.forwarded(request.headers(), vars, originalHost);
    // The connection is the tunnel's from here on, and closes if it cannot be made. The client's
    // (empty) last content is waiting; take it now so it does not reach the tunnel.
    var d = call.downstream();
    d.closeAfterResponse();
    d.upgraded();
    d.pullBody();
    connect(originalHost);
  }

  private void connect(String originalHost) {
    node = upstream.pick(vars, tried);
    if (node == null) {
      fail(failures == 0 ? 503 : 502);
      return;
    }
    upstream.begin(node);
    ProxyHeaders.host(request.headers(), upstream, node, originalHost);
    call.pipeline()
        .pools()
        .connect(
            client.channel().eventLoop(), upstream.endpoint(node), upstream.connectTimeoutMillis())
        .addListener(
            f -> {
              if (!client.channel().isActive()) {
                if (f.isSuccess()) {
                  ((UpstreamConnection) f.getNow()).channel().close();
                }
                upstream.release(node);
                return;
              }
              if (!f.isSuccess()) {
                upstream.failed(node, NodeState.Failure.TCP);
                tried.set(node.index());
                failures++;
                if (failures <= upstream.retries()) {
                  connect(originalHost);
                } else {
                  call.pipeline().metrics().error("upstream_connect_failed");
                  fail(502);
                }
                return;
              }
              conn = (UpstreamConnection) f.getNow();
              conn.attach(this);
              conn.channel().write(request);
              conn.channel().writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
              conn.channel().read();
            });
  }

  private void fail(int status) {
    done = true;
    call.respondError(status);
  }

  @Override
  public void onUpstreamMessage(Object msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (switched) {
      // Frames the node sent right behind its 101: held until the relay is in place.
      if (msg instanceof ByteBuf b) {
        early.add(b);
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (msg instanceof HttpResponse res) {
      int code = res.status().code();
      if (code != 101 && code >= 100 && code < 200) {
        // An interim answer (103 Early Hints, 100, 102) is not the node's answer to the upgrade:
        // dropped, with the empty end the decoder gives it, as the proxy drops them.
        interim = true;
        ReferenceCountUtil.release(res);
        return;
      }
      if (code == 101) {
        client.writeAndFlush(res);
        client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        switched = true;
        return;
      }
      // No upgrade: relay the answer as it is, then close.
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      if (res instanceof LastHttpContent) {
        relayEnd(res); // head and body in one message
      } else {
        client.write(res);
      }
      return;
    }
    if (msg instanceof HttpContent c) {
      if (interim) {
        interim = !(c instanceof LastHttpContent);
        c.release();
        return;
      }
      if (c instanceof LastHttpContent) {
        relayEnd(c);
        return;
      }
      client.write(c);
    }
  }

  /** The end of an answer that refused the upgrade: relayed, then both connections close. */
  private void relayEnd(Object last) {
    client.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
    done = true;
    upstream.end(node, 0, 0);
    call.finished(502, 0, node.address(), 0);
    conn.channel().close();
  }

  @Override
  public void onUpstreamReadComplete() {
    if (done) {
      return;
    }
    if (switched) {
      splice();
      return;
    }
    client.flush();
    conn.channel().read();
  }

  /** After the 101: both pipelines become byte relays. */
  private void splice() {
    done = true;
    client.flush();
    call.finished(101, 0, node.address(), System.nanoTime() - start);
    upstream.end(node, 101, (System.nanoTime() - start) / 1000);
    var up = conn.channel();
    var down = client.channel();
    conn.detach();
    up.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    down.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    var cp = down.pipeline();
    cp.addLast("relay", new Relay(up));
    for (var name : new String[] {"gateway", "timeouts", "codec"}) {
      if (cp.get(name) != null) {
        cp.remove(name);
      }
    }
    var up1 = up.pipeline();
    up1.addLast("relay", new Relay(down));
    up1.remove("connection");
    up1.remove("codec");
    var fromNode = tunnels.add(down, up, "relay");
    for (var b : early) {
      fromNode.passed(b);
      down.write(b);
    }
    early.clear();
    down.flush();
    down.read();
    up.read();
  }

  @Override
  public void onUpstreamWritable() {}

  @Override
  public void onUpstreamClosed() {
    if (!done) {
      done = true;
      upstream.failed(node, NodeState.Failure.TCP);
      if (!switched) {
        fail(502);
      }
    }
  }
}
