package io.archway.dataplane.plugins;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A proxy-cache zone on disk ({@code cache_strategy: disk}, APISIX's default, where nginx keeps
 * {@code proxy_cache} files): one file per response in the zone's directory, an index in memory.
 *
 * <p>Only the index is read on the event loop: a key it does not hold is a MISS without I/O.
 * Reading a kept body, writing a new one and deleting files all run on the plugins' I/O threads, so
 * a slow disk delays the requests that hit the cache, never the loop. A file is written under a
 * temporary name and moved into place, so a reader never sees half of one. The index is bounded by
 * the bytes of the files ({@code disk_size}); the least recently used entries go first, their files
 * deleted. At start the zone reads the files already there (the header of each), so what was cached
 * survives a restart, as nginx's cache loader does; expired and unreadable files are deleted. Until
 * that reading is done, lookups wait for it (off the loop) rather than answer MISS.
 *
 * <p>File layout: {@code AWC1}, the key, status, stored and expiry times (epoch millis), the
 * headers and the body, in {@link DataOutputStream}'s encoding.
 */
final class DiskCacheStore implements CacheZone {

  private static final Logger log = LoggerFactory.getLogger(DiskCacheStore.class);
  private static final int MAGIC = 0x41574331; // "AWC1"
  private static final String SUFFIX = ".cache";

  /** An entry of the index: where its file is, how large, and its times. */
  private record Meta(Path file, long size, long stored, long expires) {}

  private final Path dir;
  private final Executor io;
  private final int maxEntry;
  private final Cache<String, Meta> index;
  private final AtomicLong names = new AtomicLong(System.nanoTime());
  private final CompletableFuture<Void> loaded;

  DiskCacheStore(Path dir, long maxBytes, int maxEntry, Executor io) {
    this.dir = dir;
    this.io = io;
    this.maxEntry = maxEntry;
    this.index =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((String k, Meta m) -> (int) Math.min(Integer.MAX_VALUE, m.size()))
            .expireAfter(
                new Expiry<String, Meta>() {
                  @Override
                  public long expireAfterCreate(String k, Meta m, long now) {
                    // Reckoned from when the response was stored, which for a file of an
                    // earlier run is before it came into the index.
                    return Math.max(0, left(m, System.currentTimeMillis()));
                  }

                  @Override
                  public long expireAfterUpdate(String k, Meta m, long now, long left) {
                    return expireAfterCreate(k, m, now);
                  }

                  @Override
                  public long expireAfterRead(String k, Meta m, long now, long left) {
                    return left;
                  }
                })
            .executor(io)
            .removalListener((String k, Meta m, RemovalCause cause) -> delete(m))
            .build();
    loaded =
        CompletableFuture.runAsync(this::load, io)
            .exceptionally(
                e -> {
                  log.warn("proxy-cache: cannot read {}: {}", dir, e.toString());
                  return null;
                });
  }

  /** Nanoseconds an entry has left in the index at {@code nowMillis}. */
  private static long left(Meta m, long nowMillis) {
    return CacheStore.keepNanos(m.stored(), m.expires()) - (nowMillis - m.stored()) * 1_000_000L;
  }

  @Override
  public int maxEntry() {
    return maxEntry;
  }

  @Override
  public CompletionStage<CacheStore.Entry> lookup(String key) {
    if (!loaded.isDone()) {
      // The files of an earlier run are still being read: wait for the index (off the loop).
      return loaded.thenComposeAsync(v -> lookup(key), io);
    }
    var meta = index.getIfPresent(key);
    if (meta == null) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.supplyAsync(() -> read(key, meta), io);
  }

  @Override
  public void put(String key, CacheStore.Entry entry) {
    // After the reading of the directory, which must not take a file being written for an old one.
    loaded.thenRunAsync(() -> write(key, entry), io);
  }

  @Override
  public boolean purge(String key) {
    return index.asMap().remove(key) != null;
  }

  private CacheStore.Entry read(String key, Meta meta) {
    try (var in = new DataInputStream(new BufferedInputStream(Files.newInputStream(meta.file())))) {
      var file = header(in);
      if (!file.key.equals(key)) {
        throw new IOException("holds another key");
      }
      var body = in.readNBytes(in.readInt());
      return new CacheStore.Entry(file.status, file.headers, body, file.stored, file.expires);
    } catch (IOException | RuntimeException e) {
      // Deleted behind our back, or damaged: a MISS, and the entry is forgotten.
      log.debug("proxy-cache: {} unreadable: {}", meta.file(), e.toString());
      index.asMap().remove(key, meta);
      return null;
    }
  }

  private void write(String key, CacheStore.Entry e) {
    var name = fileName(key);
    var file = dir.resolve(name);
    var tmp = dir.resolve(name + ".tmp");
    try {
      Files.createDirectories(dir);
      try (var out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
        out.writeInt(MAGIC);
        out.writeUTF(key);
        out.writeInt(e.status());
        out.writeLong(e.stored());
        out.writeLong(e.expires());
        out.writeInt(e.headers().size());
        for (var h : e.headers()) {
          out.writeUTF(h.getKey());
          out.writeUTF(h.getValue());
        }
        out.writeInt(e.body().length);
        out.write(e.body());
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      index.put(key, new Meta(file, Files.size(file), e.stored(), e.expires()));
      // Evict now, on this I/O thread: Caffeine drops a maintenance request that comes while
      // another runs on a custom executor, which would leave files over disk_size until the
      // zone's next use.
      index.cleanUp();
    } catch (IOException | RuntimeException ex) {
      log.warn("proxy-cache: cannot write {}: {}", file, ex.toString());
      delete(new Meta(tmp, 0, 0, 0));
    }
  }

  /** The entries of a previous run, back in the index; expired or unreadable files deleted. */
  private void load() {
    if (!Files.isDirectory(dir)) {
      return;
    }
    long now = System.currentTimeMillis();
    int kept = 0;
    try (var files = Files.list(dir)) {
      for (var file : (Iterable<Path>) files::iterator) {
        var name = file.getFileName().toString();
        if (name.endsWith(".tmp")) {
          delete(new Meta(file, 0, 0, 0));
          continue;
        }
        if (!name.endsWith(SUFFIX)) {
          continue;
        }
        try (var in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
          var h = header(in);
          var meta = new Meta(file, Files.size(file), h.stored, h.expires);
          if (left(meta, now) <= 0) {
            throw new IOException("past keeping");
          }
          if (index.asMap().putIfAbsent(h.key, meta) == null) {
            kept++;
          } else {
            delete(meta); // written again since this run began
          }
        } catch (IOException | RuntimeException e) {
          delete(new Meta(file, 0, 0, 0));
        }
      }
    } catch (IOException e) {
      log.warn("proxy-cache: cannot read {}: {}", dir, e.toString());
    }
    if (kept > 0) {
      log.info("proxy-cache: {} entries of {} kept from before", kept, dir);
    }
  }

  private record Header(
      String key, int status, long stored, long expires, List<Map.Entry<String, String>> headers) {}

  private static Header header(DataInputStream in) throws IOException {
    if (in.readInt() != MAGIC) {
      throw new IOException("not a cache file");
    }
    var key = in.readUTF();
    int status = in.readInt();
    long stored = in.readLong();
    long expires = in.readLong();
    int n = in.readInt();
    if (n < 0 || n > 10_000) {
      throw new IOException("bad header count");
    }
    var headers = new ArrayList<Map.Entry<String, String>>(n);
    for (int i = 0; i < n; i++) {
      headers.add(Map.entry(in.readUTF(), in.readUTF()));
    }
    return new Header(key, status, stored, expires, List.copyOf(headers));
  }

  private void delete(Meta m) {
    if (m == null) {
      return;
    }
    try {
      Files.deleteIfExists(m.file());
    } catch (IOException e) {
      log.debug("proxy-cache: cannot delete {}: {}", m.file(), e.toString());
    }
  }

  /**
   * A name per key and write: the key's SHA-256 (so any key makes a safe name) and a counter, so a
   * new response never overwrites the file an older index entry (being removed) points to.
   */
  private String fileName(String key) {
    try {
      var digest =
          MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16) + "-" + names.incrementAndGet() + SUFFIX;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
