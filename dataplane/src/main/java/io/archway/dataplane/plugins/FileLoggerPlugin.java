package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;

/**
 * file-logger: each request's entry appended to {@code path} as one JSON line. The event loop only
 * queues the entry; a plugin I/O thread writes what is queued in one {@code write}. Before each
 * write the file at {@code path} is checked to be the one open: when logrotate moved it away or it
 * was deleted, the file is opened (created) again, so no {@code USR1} is needed.
 */
@PluginTraits(category = Plugin.Category.OBSERVABILITY, dryRun = Plugin.DryRun.SIMULATES)
public final class FileLoggerPlugin implements EntryLogger<FileLoggerPlugin.Config> {

  /** The configuration; schema {@code file-logger.json}. */
  public record Config(
      String path,
      ObjectNode logFormat,
      boolean includeRespBody,
      ArrayNode includeRespBodyExpr,
      List<String> requestHeaderKeys) {}

  @Override
  public String name() {
    return "file-logger";
  }

  @Override
  public int priority() {
    return 399;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var path = Path.of(conf.path()).toAbsolutePath().normalize();
    var services = scope.services();
    var entries =
        LogEntries.builder(
            name(),
            conf.logFormat(),
            false,
            null,
            conf.includeRespBody(),
            conf.includeRespBodyExpr(),
            services);
    // One writer and one queue per file, whichever routes log to it, kept across config changes.
    LogBatcher batcher =
        scope.shared(
            "file-logger:" + path,
            () -> {
              var file = new AppendFile(path);
              return new LogBatcher(
                  name(), LogEntries.settings(1000, 0, 0, 0), file::write, services);
            });
    var keys = conf.requestHeaderKeys();
    return LogEntries.instance(
        entries,
        (ctx, e) -> {
          if (keys != null && e.path("request").path("headers") instanceof ObjectNode all) {
            var kept = all.objectNode();
            for (var k : keys) {
              var v = all.get(k.toLowerCase(Locale.ROOT));
              if (v != null) {
                kept.set(k, v);
              }
            }
            ((ObjectNode) e.get("request")).set("headers", kept);
          }
          LogEntries.offer(batcher, name(), services, e);
        });
  }

  /** A file lines are appended to, opened again when the path no longer leads to it. */
  static final class AppendFile {
    private final Path path;
    private FileChannel channel;
    private Object key;

    AppendFile(Path path) {
      this.path = path;
    }

    // A lock, not synchronized: the batcher writes from a virtual thread.
    private final java.util.concurrent.locks.ReentrantLock lock =
        new java.util.concurrent.locks.ReentrantLock();

    void write(List<byte[]> lines) throws IOException {
      lock.lock();
      try {
        writeLocked(lines);
      } finally {
        lock.unlock();
      }
    }

    private void writeLocked(List<byte[]> lines) throws IOException {
      int size = 0;
      for (var l : lines) {
        size += l.length + 1;
      }
      var buf = ByteBuffer.allocate(size);
      for (var l : lines) {
        buf.put(l).put((byte) '\n');
      }
      buf.flip();
      var ch = open();
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
    }

    private FileChannel open() throws IOException {
      Object now;
      try {
        now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
      } catch (NoSuchFileException e) {
        now = null;
      }
      if (channel != null && (now == null || !now.equals(key))) {
        channel.close(); // moved away or deleted: the path gets a new file
        channel = null;
      }
      if (channel == null) {
        var dir = path.getParent();
        if (dir != null) {
          Files.createDirectories(dir);
        }
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
      }
      return channel;
    }
  }
}
