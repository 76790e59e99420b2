package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk zone on a real directory: files written, read back, bounded, purged, reloaded. */
class DiskCacheStoreTest {

  @TempDir Path dir;
  final ExecutorService io = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    io.shutdownNow();
  }

  private static CacheStore.Entry entry(String body, long ttlMillis) {
    long now = System.currentTimeMillis();
    return new CacheStore.Entry(
        200,
        List.of(Map.entry("Content-Type", "text/plain"), Map.entry("X-Ünicode", "välue")),
        body.getBytes(StandardCharsets.UTF_8),
        now,
        now + ttlMillis);
  }

  private static CacheStore.Entry get(CacheZone zone, String key) {
    return zone.lookup(key).toCompletableFuture().join();
  }

  private long files() throws Exception {
    try (var list = Files.list(dir)) {
      return list.filter(p -> p.toString().endsWith(".cache")).count();
    }
  }

  @Test
  void aWrittenEntryIsReadBackAndAnUnknownKeyNeedsNoIo() throws Exception {
    var zone = new DiskCacheStore(dir, 1 << 20, 1 << 16, io);
    assertThat(get(zone, "nothing")).isNull(); // once the directory is read...
    assertThat(zone.lookup("other").toCompletableFuture().isDone()).isTrue(); // ...no I/O
    zone.put("GET/a", entry("hello", 60_000));
    await().until(() -> get(zone, "GET/a") != null);
    var e = get(zone, "GET/a");
    assertThat(new String(e.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
    assertThat(e.headers()).contains(Map.entry("X-Ünicode", "välue"));
    assertThat(files()).isEqualTo(1);

    // A new response replaces the old one, whose file goes.
    zone.put("GET/a", entry("again", 60_000));
    await()
        .untilAsserted(
            () -> {
              assertThat(new String(get(zone, "GET/a").body(), StandardCharsets.UTF_8))
                  .isEqualTo("again");
              assertThat(files()).isEqualTo(1);
            });

    assertThat(zone.purge("GET/a")).isTrue();
    assertThat(zone.purge("GET/a")).isFalse();
    assertThat(get(zone, "GET/a")).isNull();
    await().until(() -> files() == 0);
  }

  @Test
  void aFileDeletedBehindItsBackIsAMiss() throws Exception {
    var zone = new DiskCacheStore(dir, 1 << 20, 1 << 16, io);
    zone.put("k", entry("x", 60_000));
    await().until(() -> files() == 1);
    try (var list = Files.list(dir)) {
      for (var p : list.toList()) {
        Files.delete(p);
      }
    }
    assertThat(get(zone, "k")).isNull();
    assertThat(zone.purge("k")).isFalse(); // forgotten by the failed read
  }

  @Test
  void theZoneIsBoundedByTheBytesOfItsFiles() throws Exception {
    var zone = new DiskCacheStore(dir, 64 * 1024, 1 << 16, io);
    for (int i = 0; i < 40; i++) {
      zone.put("k" + i, entry("x".repeat(8 * 1024), 60_000));
    }
    await().untilAsserted(() -> assertThat(files()).isLessThanOrEqualTo(8));
  }

  @Test
  void aRestartKeepsFreshEntriesAndDropsExpiredAndDamagedFiles() throws Exception {
    var first = new DiskCacheStore(dir, 1 << 20, 1 << 16, io);
    first.put("fresh", entry("kept", 60_000));
    first.put("stale", entry("gone", -7_200_000));
    await().until(() -> files() == 2 || files() == 1);
    await().until(() -> get(first, "fresh") != null);
    Files.writeString(dir.resolve("damaged.cache"), "not a cache file");
    Files.writeString(dir.resolve("half.cache.tmp"), "interrupted");

    var second = new DiskCacheStore(dir, 1 << 20, 1 << 16, io);
    // Lookups made while the files are read wait for them.
    var e = get(second, "fresh");
    assertThat(e).isNotNull();
    assertThat(new String(e.body(), StandardCharsets.UTF_8)).isEqualTo("kept");
    assertThat(get(second, "stale")).isNull();
    assertThat(Files.exists(dir.resolve("damaged.cache"))).isFalse();
    assertThat(Files.exists(dir.resolve("half.cache.tmp"))).isFalse();
  }
}
