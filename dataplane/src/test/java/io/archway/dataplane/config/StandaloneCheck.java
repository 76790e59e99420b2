package io.archway.dataplane.config;

import io.archway.dataplane.exchange.HttpRouteStats;
import io.archway.dataplane.support.SyslogSinks;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.tls.CertificateCompiler;
import io.archway.dataplane.tls.TlsMetrics;
import io.archway.dataplane.tls.TlsSettings;
import io.archway.dataplane.upstream.Upstreams;
import io.archway.model.Keys.Key;
import io.archway.model.source.ConfigFileException;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.StandaloneFile;
import io.netty.channel.EventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A standalone file loaded as the dataplane loads it: read by the model ({@link StandaloneFile},
 * all or nothing), then compiled ({@link ConfigCompiler}, where an object is left out alone). The
 * problems are what either step said; none means every object in the file is in force.
 */
final class StandaloneCheck implements AutoCloseable {

  private final EventLoopGroup loops = Transport.selected().newLoopGroup(1, "check-io");
  private final Upstreams upstreams = new Upstreams(Transport.selected(), loops, 1);
  private final SyslogSinks sinks = new SyslogSinks();

  /** The problems of {@code yaml} (a whole file, {@code #END} included); empty when accepted. */
  List<String> problems(String yaml) {
    java.util.Map<Key, io.archway.model.ConfigObject> objects;
    try {
      objects = StandaloneFile.parse(yaml.getBytes(StandardCharsets.UTF_8), "apisix.yaml");
    } catch (ConfigFileException e) {
      return e.lines();
    }
    var items = new HashMap<Key, ConfigItem>();
    objects.forEach((k, v) -> items.put(k, new ConfigItem(k, v, 1)));
    // A compiler per file: every object is new to it, so each rejection is reported.
    var compiler =
        new ConfigCompiler(
            upstreams,
            HttpRouteStats::new,
            new StreamMetrics(),
            sinks,
            null,
            new CertificateCompiler(TlsSettings.DEFAULTS, new TlsMetrics()));
    try {
      compiler.accept(ConfigSnapshot.of(items, 1));
      var out = new java.util.ArrayList<>(compiler.lastRejections());
      // Some compilers log their rejections without recording them: their counts say so.
      compiler
          .rejected()
          .forEach(
              (kind, n) -> {
                if (n > 0 && out.stream().noneMatch(l -> l.startsWith(kind.dir() + "/"))) {
                  out.add(kind.dir() + ": " + n + " left out (the log says why)");
                }
              });
      return out;
    } finally {
      compiler.pluginServices().close();
      compiler.close();
    }
  }

  @Override
  public void close() {
    sinks.close();
    upstreams.close();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
