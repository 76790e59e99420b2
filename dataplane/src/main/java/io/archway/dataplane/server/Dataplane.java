package io.archway.dataplane.server;

import io.archway.dataplane.admin.StandaloneAdminStore;
import io.archway.dataplane.config.ConfigHolder;
import io.archway.dataplane.config.xds.XdsConfigSource;
import io.archway.model.source.ConfigFileException;
import io.archway.model.source.ConfigSource;
import io.archway.model.source.ConfigState;
import io.archway.model.source.EtcdConfigSource;
import io.archway.model.source.FileConfigSource;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One dataplane: its config source, the snapshot it keeps, and its listeners. */
public final class Dataplane implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Dataplane.class);

  private final DataplaneOptions options;
  private final ConfigHolder config = new ConfigHolder();
  private ConfigSource source;
  private Servers servers;

  public Dataplane(DataplaneOptions options) {
    this.options = options;
  }

  /**
   * Starts everything. In standalone mode the file is read first, so a missing or invalid file
   * stops the start with every problem listed.
   *
   * @throws ConfigFileException for a bad standalone file
   * @throws IOException when the access log cannot be opened
   */
  public Dataplane start() throws ConfigFileException, InterruptedException, IOException {
    var admin = options.admin();
    FutureTask<ConfigState> fileLoad = null;
    StandaloneAdminStore adminStore = null;
    if (options.standaloneMode() && admin.enabled()) {
      // API-driven standalone: the file is where the config starts; the Admin API changes it.
      adminStore = StandaloneAdminStore.load(options.standalone(), admin.persist());
      source = adminStore;
    } else if (options.xdsMode()) {
      source = new XdsConfigSource(options.xds());
    } else if (options.standaloneMode()) {
      var file = new FileConfigSource(options.standalone(), Duration.ofMillis(500));
      // Reading a big file and setting up the servers do not depend on each other: the file is
      // read on a thread of its own meanwhile, and the start waits for it before the config is
      // compiled (and stops, with the file's problems, before anything is served).
      fileLoad = new FutureTask<>(file::load);
      Thread.ofPlatform().name("archway-config-load").daemon().start(fileLoad);
      source = file;
    } else {
      var settings =
          EtcdConfigSource.Settings.of(options.etcdEndpoints(), options.prefix())
              .withAuth(options.etcdUser(), options.etcdPassword())
              .withTls(options.etcdTls());
      source = new EtcdConfigSource(settings);
    }
    try {
      servers =
          new Servers()
              .start(
                  new ServerSettings(
                      options.bindAddress(),
                      options.httpPort(),
                      options.httpsPort(),
                      options.statusPort(),
                      options.workers(),
                      options.http(),
                      options.stream(),
                      options.pubsub(),
                      options.kubernetes(),
                      options.tls(),
                      options.http2(),
                      options.shutdownTimeout(),
                      options.privilegedPorts(),
                      options.overload()),
                  config,
                  source);
      if (adminStore != null) {
        servers.startAdmin(admin, options.prefix(), adminStore);
      } else if (admin.enabled() && options.xdsMode()) {
        // The management server owns the config; writes through the Admin API would be lost.
        log.info("xds mode: the Admin API is not started (the management server owns the config)");
      } else if (admin.enabled() && !options.standaloneMode()) {
        servers.startAdmin(
            admin,
            options.prefix(),
            options.etcdEndpoints(),
            options.etcdUser(),
            options.etcdPassword(),
            options.etcdTls());
      }
      if (fileLoad != null) {
        awaitLoad(fileLoad);
      }
    } catch (RuntimeException
        | Error
        | InterruptedException
        | IOException
        | ConfigFileException e) {
      if (servers != null) {
        servers.close();
      }
      source.close();
      throw e;
    }
    source.start(config);
    log.info("archway dataplane started; config from {}", source.status().source());
    return this;
  }

  /** Waits for the standalone file read, rethrowing what it threw. */
  private static void awaitLoad(FutureTask<ConfigState> load)
      throws ConfigFileException, InterruptedException {
    try {
      load.get();
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case ConfigFileException c -> throw c;
        case RuntimeException r -> throw r;
        case Error err -> throw err;
        default -> throw new IllegalStateException(e.getCause());
      }
    }
  }

  public ConfigHolder config() {
    return config;
  }

  public ConfigSource source() {
    return source;
  }

  public Servers servers() {
    return servers;
  }

  /** Graceful stop: no new connections, in-flight requests finish within the shutdown timeout. */
  @Override
  public void close() {
    if (servers != null) {
      servers.stop(options.shutdownTimeout());
    }
    if (source != null) {
      source.close();
    }
    log.info("archway dataplane stopped");
  }
}
