package io.archway.model.source;

import io.archway.model.Keys.Key;
import io.archway.model.Messages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config from a standalone file. {@link #load()} reads it once and fails with every problem
 * (the process should not start on a bad file); {@link #start} then delivers it and checks the file
 * every {@code pollInterval}. A changed file is applied whole once it ends with {@code #END}; an
 * invalid one leaves the previous config in force and says why in {@link #status()}. A poll of the
 * file's size, time and inode is cheap and, unlike inotify, follows Kubernetes ConfigMap symlink
 * swaps and every file system.
 */
public final class FileConfigSource implements ConfigSource {

  private static final Logger log = LoggerFactory.getLogger(FileConfigSource.class);

  private final Path file;
  private final Duration pollInterval;
  private final ScheduledExecutorService loop;

  // Owned by `loop` after start.
  private ConfigListener listener;
  private byte[] applied;
  private byte[] lastRejected;
  private Fingerprint seen;
  private ConfigState initial;

  private volatile boolean readable;
  private volatile boolean loaded;
  private volatile long revision;
  private volatile String lastError;
  private volatile Map<String, String> invalid = Map.of();
  private volatile long rejectedTotal;

  public FileConfigSource(Path file, Duration pollInterval) {
    this.file = file;
    this.pollInterval = pollInterval;
    this.loop = Executors.newSingleThreadScheduledExecutor(Threads.daemon("archway-file-source"));
  }

  /**
   * Reads and validates the file now.
   *
   * @throws ConfigFileException if it is missing, unreadable, incomplete or invalid
   */
  public synchronized ConfigState load() throws ConfigFileException {
    var fp = fingerprint();
    var content = read();
    var items = StandaloneFile.parse(content, file.toString());
    applied = content;
    seen = fp;
    revision = 1;
    readable = true;
    initial = state(items, 1);
    return initial;
  }

  @Override
  public void start(ConfigListener listener) {
    loop.execute(
        () -> {
          this.listener = listener;
          if (initial == null) {
            try {
              load();
            } catch (ConfigFileException e) {
              reject(e, null);
            }
          }
          if (initial != null) {
            listener.onState(initial);
            loaded = true;
          }
        });
    long ms = Math.max(10, pollInterval.toMillis());
    loop.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
  }

  @Override
  public SourceStatus status() {
    return new SourceStatus(
        "file " + file, readable, loaded, revision, lastError, invalid, rejectedTotal, revision);
  }

  @Override
  public void close() {
    loop.shutdownNow();
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void poll() {
    try {
      var fp = fingerprint();
      if (Objects.equals(fp, seen)) {
        return;
      }
      seen = fp;
      byte[] content;
      try {
        content = read();
        readable = true;
      } catch (ConfigFileException e) {
        readable = false;
        var message = e.lines().get(0);
        if (!message.equals(lastError)) {
          log.warn("file source: {}; keeping the last good config", message);
        }
        lastError = message;
        return;
      }
      if (Arrays.equals(content, applied)) {
        // Back to what is in force (e.g. a bad edit reverted): nothing to apply, nothing wrong.
        lastError = null;
        invalid = Map.of();
        lastRejected = null;
        return;
      }
      if (Arrays.equals(content, lastRejected)) {
        return;
      }
      try {
        var items = StandaloneFile.parse(content, file.toString());
        applied = content;
        lastRejected = null;
        revision++;
        lastError = null;
        invalid = Map.of();
        var state = state(items, revision);
        listener.onState(state);
        loaded = true;
        log.info(
            "file source: reloaded {} ({} item(s), revision {})", file, items.size(), revision);
      } catch (ConfigFileException e) {
        reject(e, content);
      }
    } catch (RuntimeException e) {
      // Never let one bad poll stop the schedule.
      log.warn("file source: poll failed: {}", e.toString());
    }
  }

  private void reject(ConfigFileException e, byte[] content) {
    if (e.incomplete()) {
      // A write in progress: not an error yet, just not applied. Read again when it changes.
      lastError = e.lines().get(0);
      log.debug("file source: {}", lastError);
      return;
    }
    lastRejected = content;
    lastError = e.lines().size() + " problem(s): " + String.join("; ", e.lines());
    var m = new HashMap<String, String>();
    for (var line : e.lines()) {
      m.merge(objectOf(line), line, (a, b) -> a + "; " + b);
    }
    invalid = Map.copyOf(m);
    rejectedTotal += m.size();
    log.warn(
        "file source: {} rejected, keeping the previous config:\n  {}",
        file,
        String.join("\n  ", e.lines()));
  }

  /** The file's bytes; a missing or unreadable file is one clear problem. */
  private byte[] read() throws ConfigFileException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ConfigFileException(List.of(file + ": no such file"), false);
    } catch (IOException e) {
      throw new ConfigFileException(List.of(file + ": cannot read: " + Messages.oneLine(e)), false);
    }
  }

  /** {@code file: routes/7: uri: …} → {@code routes/7}. */
  private String objectOf(String line) {
    var rest = line.startsWith(file + ": ") ? line.substring(file.toString().length() + 2) : line;
    int colon = rest.indexOf(": ");
    return colon < 0 ? rest : rest.substring(0, colon);
  }

  private static ConfigState state(Map<Key, io.archway.model.ConfigObject> items, long revision) {
    var m = new HashMap<Key, ConfigItem>();
    items.forEach((k, v) -> m.put(k, new ConfigItem(k, v, revision)));
    return new ConfigState(m, revision);
  }

  private record Fingerprint(long size, long modifiedNanos, Object fileKey) {}

  private Fingerprint fingerprint() {
    try {
      var a = Files.readAttributes(file, BasicFileAttributes.class);
      return new Fingerprint(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.fileKey());
    } catch (IOException e) {
      return null;
    }
  }
}
