package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ConfigObject;
import io.archway.model.Keys;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigFileException;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigSource;
import io.archway.model.source.ConfigState;
import io.archway.model.source.SourceStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Standalone mode with the Admin API (APISIX 3.x's API-driven standalone): the config starts from
 * the standalone file and lives in memory; every Admin API write changes it and is delivered to the
 * dataplane as the file source delivers a change ({@link ConfigListener#onChanges}), one batch per
 * write, so the snapshot swaps atomically. This class is the dataplane's {@link ConfigSource} and
 * the Admin API's {@link AdminStore} at once; both run on its one thread, so a write completes once
 * the new config is compiled and in force. With {@code persist}, each change is written back to the
 * file (a temporary file renamed over it, ending with {@code #END}) so a restart keeps it.
 */
public final class StandaloneAdminStore implements AdminStore, ConfigSource {

  private static final Logger log = LoggerFactory.getLogger(StandaloneAdminStore.class);

  private record Entry(Stored stored, ConfigItem item) {}

  private final Path file;
  private final boolean persist;
  private final ScheduledExecutorService loop =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            var t = new Thread(r, "archway-standalone-admin");
            t.setDaemon(true);
            return t;
          });

  // Owned by `loop` once loaded.
  private final TreeMap<String, Entry> items = new TreeMap<>();
  private ConfigListener listener;
  private byte[] applied;
  private Object seen;
  private String lastRejected;

  private volatile long revision;
  private volatile boolean loaded;
  private volatile String lastError;
  private volatile String digest;
  private volatile long lastModified;

  private StandaloneAdminStore(Path file, boolean persist) {
    this.file = file;
    this.persist = persist;
  }

  /**
   * Reads and checks the file now (a missing file is an empty config when {@code persist} will
   * create it).
   *
   * @throws ConfigFileException with every problem, as the file source reports them
   */
  public static StandaloneAdminStore load(Path file, boolean persist) throws ConfigFileException {
    var store = new StandaloneAdminStore(file, persist);
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      if (!persist) {
        throw new ConfigFileException(List.of(file + ": no such file"), false);
      }
      content = "#END\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigFileException(List.of(file + ": cannot read: " + e.getMessage()), false);
    }
    var text = new String(content, java.nio.charset.StandardCharsets.UTF_8);
    if (!text.strip().endsWith(io.archway.model.source.StandaloneFile.END_MARKER)) {
      throw new ConfigFileException(
          List.of(file + ": no final #END line (expected: a complete write ending with #END)"),
          true);
    }
    var problems = new ArrayList<String>();
    Map<String, ObjectNode> values;
    try {
      values = StandaloneDoc.items(StandaloneDoc.YAML.readTree(text), file.toString(), problems);
    } catch (IOException e) {
      throw new ConfigFileException(List.of(file + ": not valid YAML: " + e.getMessage()), false);
    }
    if (!problems.isEmpty()) {
      throw new ConfigFileException(problems, false);
    }
    store.revision = 1;
    store.applied = content;
    store.seen = fingerprint(file);
    values.forEach((k, v) -> store.items.put(k, entry(k, v, 1, 1)));
    store.lastModified = System.currentTimeMillis() / 1000;
    return store;
  }

  // ConfigSource

  @Override
  public void start(ConfigListener listener) {
    loop.execute(
        () -> {
          this.listener = listener;
          listener.onState(state());
          loaded = true;
        });
    loop.scheduleWithFixedDelay(this::poll, 500, 500, TimeUnit.MILLISECONDS);
  }

  /**
   * An edit of the file by hand or by a deploy tool is still applied, as the file source applies it
   * (whole, once it ends with {@code #END}; an invalid one is reported and left out), now as
   * changes against what the Admin API holds. The file's own write-back is not read again.
   */
  private void poll() {
    try {
      var fp = fingerprint(file);
      if (java.util.Objects.equals(fp, seen)) {
        return;
      }
      seen = fp;
      byte[] content = Files.readAllBytes(file);
      var text = new String(content, java.nio.charset.StandardCharsets.UTF_8);
      if (java.util.Arrays.equals(content, applied)
          || !text.strip().endsWith(io.archway.model.source.StandaloneFile.END_MARKER)) {
        return;
      }
      var problems = new ArrayList<String>();
      // A masked GET pasted in keeps the secrets held, as PUT /apisix/admin/configs does.
      var values =
          StandaloneDoc.items(
              StandaloneDoc.YAML.readTree(text),
              file.toString(),
              problems,
              Redaction.keeping(
                  k -> {
                    var e = items.get(k);
                    return e == null ? null : e.stored().value();
                  }));
      if (!problems.isEmpty()) {
        var message = String.join("; ", problems);
        if (!message.equals(lastRejected)) {
          log.warn("standalone admin: {} rejected, keeping the config in force: {}", file, message);
        }
        lastRejected = message;
        lastError = message;
        return;
      }
      applied = content;
      lastRejected = null;
      lastError = null;
      replace(values);
      log.info("standalone admin: applied the edited {} ({} item(s))", file, values.size());
    } catch (IOException | RuntimeException e) {
      log.debug("standalone admin: poll of {} failed: {}", file, e.toString());
    }
  }

  private static Object fingerprint(Path file) {
    try {
      var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
      return List.of(
          a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), String.valueOf(a.fileKey()));
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public SourceStatus status() {
    return new SourceStatus(
        "file " + file + " (admin API)", true, loaded, revision, lastError, Map.of(), 0, 1);
  }

  // AdminStore

  @Override
  public CompletionStage<Optional<Stored>> get(String key) {
    return on(() -> Optional.ofNullable(items.get(key)).map(Entry::stored));
  }

  @Override
  public CompletionStage<List<Stored>> list(String dir) {
    return on(
        () ->
            items.subMap(dir, dir + Character.MAX_VALUE).values().stream()
                .map(Entry::stored)
                .toList());
  }

  @Override
  public CompletionStage<Stored> put(String key, ObjectNode value, long expected) {
    return on(
        () -> {
          var before = items.get(key);
          check(key, before, expected);
          long rev = revision + 1;
          var entry =
              entry(
                  key,
                  value.deepCopy(),
                  before == null ? rev : before.stored().createdIndex(),
                  rev);
          apply(Map.of(key, entry), List.of(), rev);
          return entry.stored();
        });
  }

  @Override
  public CompletionStage<Boolean> delete(String key, long expected) {
    return on(
        () -> {
          var before = items.get(key);
          check(key, before, expected);
          if (before == null) {
            return false;
          }
          apply(Map.of(), List.of(key), revision + 1);
          return true;
        });
  }

  @Override
  public long revision() {
    return revision;
  }

  /**
   * Replaces the whole config with {@code values} (already checked) in one change: unchanged
   * objects keep their revisions, the others get the new one, and what is not in {@code values} is
   * deleted. {@code digest} is what {@code X-Digest} said, kept for the next call.
   */
  CompletionStage<Long> replaceAll(Map<String, ObjectNode> values, String digest) {
    return on(
        () -> {
          replace(values);
          this.digest = digest;
          return revision;
        });
  }

  /** On the loop: {@code values} become the config, in one change. */
  private void replace(Map<String, ObjectNode> values) {
    long rev = revision + 1;
    var puts = new TreeMap<String, Entry>();
    values.forEach(
        (k, v) -> {
          var before = items.get(k);
          if (before == null || !before.stored().value().equals(v)) {
            long created = before == null ? rev : before.stored().createdIndex();
            puts.put(k, entry(k, v.deepCopy(), created, rev));
          }
        });
    var deletes = items.keySet().stream().filter(k -> !values.containsKey(k)).toList();
    if (!puts.isEmpty() || !deletes.isEmpty()) {
      apply(puts, deletes, rev);
    }
  }

  /** Every object, by key, for {@code GET /apisix/admin/configs}. */
  CompletionStage<Map<String, ObjectNode>> all() {
    return on(
        () -> {
          var out = new TreeMap<String, ObjectNode>();
          items.forEach((k, e) -> out.put(k, e.stored().value()));
          return out;
        });
  }

  String digest() {
    return digest;
  }

  /** When the config last changed, in epoch seconds. */
  long lastModified() {
    return lastModified;
  }

  @Override
  public void close() {
    loop.shutdown();
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void check(String key, Entry before, long expected) {
    if (expected == ANY) {
      return;
    }
    long actual = before == null ? ABSENT : before.stored().modifiedIndex();
    if (actual != expected) {
      throw new Conflict(
          expected == ABSENT
              ? key + " already exists (modifiedIndex " + actual + ")"
              : key
                  + " is at modifiedIndex "
                  + actual
                  + ", not "
                  + expected
                  + " (it changed meanwhile: read it again)");
    }
  }

  /** Changes the map, tells the dataplane in one batch, and writes the file back if asked. */
  private void apply(Map<String, Entry> puts, List<String> deletes, long rev) {
    var changes = new ArrayList<ConfigChange>();
    puts.forEach(
        (k, e) -> {
          items.put(k, e);
          if (e.item() != null) {
            changes.add(new ConfigChange.Put(e.item()));
          }
        });
    for (var k : deletes) {
      var gone = items.remove(k);
      if (gone != null && gone.item() != null) {
        changes.add(new ConfigChange.Delete(gone.item().key(), rev));
      }
    }
    revision = rev;
    lastModified = System.currentTimeMillis() / 1000;
    if (listener != null && !changes.isEmpty()) {
      listener.onChanges(changes, rev);
    }
    if (persist) {
      write();
    }
  }

  private void write() {
    var values = new HashMap<String, ObjectNode>();
    items.forEach((k, e) -> values.put(k, e.stored().value()));
    try {
      var bytes = StandaloneDoc.yaml(values);
      var tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".apisix", ".yaml.tmp");
      Files.write(tmp, bytes);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      applied = bytes;
      seen = fingerprint(file);
      lastError = null;
    } catch (IOException e) {
      // The change is in force; only its copy on disk failed. Say so where /readyz shows it.
      lastError = "cannot write " + file + ": " + e.getMessage();
      log.warn("standalone admin: {}", lastError);
    }
  }

  /** The stored object and, for the model's kinds, what the dataplane compiles from it. */
  private static Entry entry(String key, ObjectNode value, long created, long modified) {
    var stored = new Stored(key, value, created, modified);
    var parsed = Keys.parseItem(key);
    if (parsed.isEmpty()) {
      return new Entry(stored, null);
    }
    try {
      ConfigObject obj = ModelJson.read(parsed.get().kind(), value, parsed.get().id(), key);
      return new Entry(stored, new ConfigItem(parsed.get(), obj, modified));
    } catch (ValidationException e) {
      // Checked before it got here; a failure is a bug, and the write must not happen.
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private ConfigState state() {
    var m = new HashMap<Keys.Key, ConfigItem>();
    items
        .values()
        .forEach(
            e -> {
              if (e.item() != null) m.put(e.item().key(), e.item());
            });
    return new ConfigState(m, revision);
  }

  private <T> CompletionStage<T> on(java.util.function.Supplier<T> work) {
    return CompletableFuture.supplyAsync(work, loop);
  }
}
