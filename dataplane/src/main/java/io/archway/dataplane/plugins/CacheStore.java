package io.archway.dataplane.plugins;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.archway.dataplane.plugin.BodyStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A proxy-cache zone in memory: entries bounded by weight, kept a while past their freshness so
 * EXPIRED shows; and the body capture that fills a zone (this one or a {@link DiskCacheStore}) as a
 * response streams to the client.
 */
final class CacheStore implements CacheZone {

  final Cache<String, Entry> cache;
  final int maxEntry;

  CacheStore(long maxBytes, int maxEntry) {
    this.maxEntry = maxEntry;
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((String k, Entry e) -> e.weight(k))
            .expireAfter(
                new Expiry<String, Entry>() {
                  @Override
                  public long expireAfterCreate(String k, Entry e, long now) {
                    return keepNanos(e.stored, e.expires);
                  }

                  @Override
                  public long expireAfterUpdate(String k, Entry e, long now, long left) {
                    return expireAfterCreate(k, e, now);
                  }

                  @Override
                  public long expireAfterRead(String k, Entry e, long now, long left) {
                    return left;
                  }
                })
            .build();
  }

  /**
   * How long an entry stored at {@code stored} and fresh until {@code expires} (epoch millis) is
   * kept: as long again past its freshness (at most an hour), to answer EXPIRED rather than MISS.
   */
  static long keepNanos(long stored, long expires) {
    long fresh = Math.max(0, expires - stored);
    return (fresh + Math.min(fresh, 3_600_000L)) * 1_000_000L;
  }

  Entry get(String key) {
    return cache.getIfPresent(key);
  }

  @Override
  public CompletionStage<Entry> lookup(String key) {
    return CompletableFuture.completedFuture(get(key));
  }

  @Override
  public void put(String key, Entry e) {
    cache.put(key, e);
  }

  @Override
  public boolean purge(String key) {
    return cache.asMap().remove(key) != null;
  }

  @Override
  public int maxEntry() {
    return maxEntry;
  }

  /** A cached response; immutable (the body is a copy, never a buffer). */
  record Entry(
      int status, List<Map.Entry<String, String>> headers, byte[] body, long stored, long expires) {

    int weight(String key) {
      int w = ProxyCachePlugin.ENTRY_OVERHEAD + body.length + key.length() * 2;
      for (var h : headers) {
        w += (h.getKey().length() + h.getValue().length()) * 2;
      }
      return w;
    }
  }

  /**
   * Copies the body as it passes (each piece goes on to the client unchanged) and stores the
   * response at its end; gives up at the size limit.
   */
  static final class Capture implements BodyStream {
    private final CacheZone store;
    private final String key;
    private final int code;
    private final List<Map.Entry<String, String>> headers;
    private final long ttlMillis;
    private byte[] buf = new byte[4096];
    private int size;

    Capture(
        CacheZone store,
        String key,
        int code,
        List<Map.Entry<String, String>> headers,
        long ttlMillis) {
      this.store = store;
      this.key = key;
      this.code = code;
      this.headers = headers;
      this.ttlMillis = ttlMillis;
    }

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      if (buf != null) {
        int n = in.readableBytes();
        if ((long) size + n > store.maxEntry()) {
          buf = null;
        } else {
          if (size + n > buf.length) {
            buf =
                Arrays.copyOf(buf, Math.min(store.maxEntry(), Math.max(size + n, buf.length * 2)));
          }
          in.getBytes(in.readerIndex(), buf, size, n);
          size += n;
        }
      }
      return in;
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      if (buf != null) {
        long now = System.currentTimeMillis();
        store.put(key, new Entry(code, headers, Arrays.copyOf(buf, size), now, now + ttlMillis));
        buf = null;
      }
      return Unpooled.EMPTY_BUFFER;
    }

    @Override
    public void abort() {
      buf = null;
    }
  }
}
