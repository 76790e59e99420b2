package io.archway.dataplane.stream.redis;

import io.archway.dataplane.server.Transport;
import io.archway.dataplane.stream.StreamMetrics;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shared Redis upstream connections ({@link SharedLink}): one per event loop and node, made on
 * first use, forgotten when closed. Each event loop's map is touched only by that loop's thread, so
 * a session and its link never cross threads.
 */
public final class RedisLinks {

  private final Transport transport;
  private final StreamMetrics metrics;
  private final Map<EventLoop, Map<String, Future<SharedLink>>> byLoop = new ConcurrentHashMap<>();

  public RedisLinks(Transport transport, StreamMetrics metrics) {
    this.transport = transport;
    this.metrics = metrics;
  }

  /**
   * The loop's link to {@code host:port}, connected or being connected; a failed connect fails the
   * future and every caller waiting on it, and the next call tries again. Call on {@code loop}.
   */
  public Future<SharedLink> acquire(EventLoop loop, String host, int port, long connectTimeout) {
    var links = byLoop.computeIfAbsent(loop, l -> new HashMap<>());
    var key = host + ":" + port;
    var known = links.get(key);
    if (known != null && (!known.isDone() || (known.isSuccess() && known.getNow().isActive()))) {
      return known;
    }
    Promise<SharedLink> promise = loop.newPromise();
    links.put(key, promise);
    transport
        .upstreamBootstrap(loop, connectTimeout)
        .connect(host, port)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (!f.isSuccess()) {
                    links.remove(key, promise);
                    promise.setFailure(f.cause());
                    return;
                  }
                  var ch = f.channel();
                  var link = new SharedLink(ch, metrics);
                  ch.pipeline().addLast("shared-link", link);
                  metrics.upstreamOpened(true);
                  ch.closeFuture()
                      .addListener(
                          x -> {
                            links.remove(key, promise);
                            metrics.upstreamClosed(true);
                          });
                  ch.config().setAutoRead(true);
                  promise.setSuccess(link);
                });
    return promise;
  }
}
