package io.archway.dataplane.admin;

import io.archway.dataplane.plugin.PluginRegistry;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Admin API: APISIX 3.x's {@code /apisix/admin} on its own port, served on the dataplane's
 * event loops ({@code server} binds {@link #initializer()} with its bootstrap). Calls are served on
 * one admin thread, off the loops; see {@code admin/DESIGN.md}.
 */
public final class AdminServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  private final AdminSettings settings;
  private final AdminEndpoints endpoints = new AdminEndpoints();
  private final AdminValidation validation;
  private final AdminStore store;
  private final String prefix;
  private final AdminMetrics metrics;
  private final ExecutorService admin =
      Executors.newSingleThreadExecutor(
          r -> {
            var t = new Thread(r, "archway-admin");
            t.setDaemon(true);
            return t;
          });
  private final AdminAuth auth;
  private final ConfigApplied applied;

  AdminServer(
      AdminSettings settings,
      String prefix,
      AdminStore store,
      PluginRegistry registry,
      AdminMetrics metrics,
      Runnable recompile,
      ConfigApplied applied) {
    this.settings = settings;
    this.applied = applied;
    this.prefix = prefix;
    this.store = store;
    this.metrics = metrics;
    this.validation = new AdminValidation(registry);
    this.auth = new AdminAuth(settings);
    refuseOpenWithoutKey(settings.address());
    StudioEndpoints.registerValidate(endpoints, store, validation);
    HelperEndpoints.register(endpoints, registry, recompile);
  }

  /**
   * The Admin API over the standalone config: the resources and {@code /apisix/admin/configs}.
   *
   * <p>{@code recompile} is what {@code PUT /apisix/admin/plugins/reload} runs (both factories).
   *
   * @throws IllegalStateException when no key is configured and the address is not loopback
   * @throws IllegalArgumentException for an {@code allow} entry that is not a CIDR
   */
  public static AdminServer standalone(
      AdminSettings settings,
      String prefix,
      StandaloneAdminStore store,
      AdminMetrics metrics,
      Runnable recompile) {
    // The store compiles each change before its call completes: answers follow the apply.
    var server =
        new AdminServer(
            settings,
            prefix,
            store,
            PluginRegistry.load(),
            metrics,
            recompile,
            ConfigApplied.ON_ANSWER);
    server.endpoints.add("*", ConfigsEndpoint.PATH, new ConfigsEndpoint(store, server.validation));
    return server;
  }

  /**
   * The Admin API over etcd ({@code --etcd}): every write is a compare-and-swap on the key's
   * revision, under the prefix the dataplane watches, so a write is served through the watch.
   *
   * @param applied when this node serves a revision: a write answers once it does (within {@link
   *     AdminSettings#applyTimeout}), so a client's next request through this node sees it
   * @throws IllegalStateException when no key is configured and the address is not loopback
   */
  public static AdminServer etcd(
      AdminSettings settings,
      String prefix,
      java.util.List<String> endpoints,
      String user,
      String password,
      io.archway.model.source.EtcdTls tls,
      AdminMetrics metrics,
      Runnable recompile,
      ConfigApplied applied) {
    var store = EtcdAdminStore.connect(endpoints, prefix, user, password, tls);
    try {
      var server =
          new AdminServer(
              settings, prefix, store, PluginRegistry.load(), metrics, recompile, applied);
      // The whole-config call is standalone mode's (ADC's); etcd holds objects one by one.
      server.endpoints.add(
          "*",
          ConfigsEndpoint.PATH,
          req ->
              CompletableFuture.completedFuture(
                  AdminResponse.error(
                      400,
                      "/apisix/admin/configs is served in standalone mode only (expected: with"
                          + " --etcd, write each object under its own path)")));
      return server;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /**
   * Adds the PluginFlow Studio's calls on the flows {@code compiler} runs (dry-run, live counts),
   * before the port opens; a dry-run's request within the HTTP listener's {@code limits}.
   */
  public void flows(
      io.archway.dataplane.config.ConfigCompiler compiler,
      io.archway.dataplane.flow.FlowTrace.Limits limits) {
    StudioEndpoints.registerFlows(endpoints, store, validation, compiler, limits);
  }

  /**
   * Adds {@code GET /apisix/admin/healthcheck}: the node states of the upstreams with health checks
   * that {@code health} gives (the control API's {@code /v1/healthcheck} body), so the Studio's
   * overview, which talks to the Admin API only, can show them. Before the port opens.
   */
  public void health(java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode> health) {
    HelperEndpoints.registerHealth(endpoints, health);
  }

  /** Where helper endpoints (plugins, schemas, OpenAPI) are added, before the port opens. */
  AdminEndpoints endpoints() {
    return endpoints;
  }

  AdminValidation validation() {
    return validation;
  }

  private AdminChannelInitializer pipeline;
  private AdminChannelInitializer onHttpPort;

  /** The admin port's pipeline. */
  public synchronized ChannelInitializer<SocketChannel> initializer() {
    if (pipeline == null) {
      var resources =
          new ResourceApi(
              store, validation, endpoints.deleteCheck(), prefix, applied, settings.applyTimeout());
      pipeline =
          new AdminChannelInitializer(
              new AdminHandler(auth, admin, req -> serve(req, resources), metrics, false), metrics);
      onHttpPort =
          new AdminChannelInitializer(
              new AdminHandler(auth, admin, req -> serve(req, resources), metrics, true), metrics);
    }
    return pipeline;
  }

  /**
   * Makes the first handler of each HTTP-port connection when the Admin API is served there too
   * ({@link AdminSettings#dataPort}); {@code null} when it is not.
   *
   * @param bindAddress where the HTTP port listens: without a key it must be loopback
   * @throws IllegalStateException when no key is configured and that address is not loopback
   */
  public java.util.function.Supplier<io.netty.channel.ChannelHandler> dataPortHandlers(
      String bindAddress) {
    if (!settings.dataPort()) {
      return null;
    }
    refuseOpenWithoutKey(bindAddress);
    initializer();
    var admin = onHttpPort;
    return () -> new DataPortSniffer(admin);
  }

  private CompletionStage<AdminResponse> serve(AdminRequest req, ResourceApi resources) {
    return endpoints
        .find(req.method(), req.path())
        .map(e -> e.handle(req))
        .orElseGet(() -> resources.serve(req));
  }

  public AdminSettings settings() {
    return settings;
  }

  /**
   * An admin port anyone who reaches it can write through is refused, unless only this host can
   * reach it: without a key the address must be loopback.
   */
  private void refuseOpenWithoutKey(String address) {
    if (auth.keyed()) {
      return;
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(address).isLoopbackAddress();
    } catch (UnknownHostException e) {
      loopback = false;
    }
    if (!loopback) {
      var message =
          "admin API on "
              + address
              + " without --admin-key: refused (expected: a key, or --admin-address 127.0.0.1)";
      log.error(message);
      throw new IllegalStateException(message);
    }
    log.warn(
        "admin API on {} without a key: anyone on this host can change the config"
            + " (set --admin-key or ARCHWAY_ADMIN_KEY)",
        address);
  }

  @Override
  public void close() {
    admin.shutdownNow();
    try {
      admin.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    store.close();
  }
}
