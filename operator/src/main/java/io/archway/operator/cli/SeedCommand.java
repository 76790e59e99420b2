package io.archway.operator.cli;

import io.archway.model.source.EtcdConfigSource;
import io.archway.operator.reconciler.OperatorMetrics;
import io.archway.operator.seed.Seeder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code archway-operator seed}: apisix-seed as a process of its own, without Kubernetes. Objects
 * written into etcd through the Admin API (or etcdctl) whose upstream names a registry get that
 * registry's nodes written into them, until SIGTERM.
 */
@Command(
    name = "seed",
    header = "write registry nodes into etcd objects that name a registry (apisix-seed)",
    customSynopsis = "archway-operator seed --etcd URL[,URL...] [options]",
    description = {
      "",
      "Watches etcd for upstreams (standalone, and inline in routes and services) whose"
          + " discovery_type names a registry given here (zookeeper; dns with --dns-discovery"
          + " operator) and writes that registry's nodes into them, as apisix-seed does. Needs no"
          + " Kubernetes. Run one at a time per etcd prefix (inside run, the leader seeds).",
      ""
    },
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    sortOptions = false)
final class SeedCommand implements Callable<Integer> {

  @ParentCommand OperatorCommand parent;

  @Mixin EtcdOptions etcd = new EtcdOptions();

  @Mixin RegistryOptions registry = new RegistryOptions();

  @Option(
      names = "--metrics-port",
      paramLabel = "N",
      description = "/metrics, /healthz and /readyz (default: 9092; 0: off)")
  String metricsPort;

  @Override
  public Integer call() throws UsageException {
    var err = parent.err;
    etcd.check();
    int port = RunCommand.integer("--metrics-port", metricsPort, 9092, 0, 65535);
    var registries = registry.registries();
    if (!registries.any()) {
      registries.close();
      throw new UsageException(
          "no registry to follow (expected: --zookeeper-connect, or --dns-discovery operator)");
    }
    var metrics = new OperatorMetrics();
    registries.metrics(metrics.registryMetrics());
    // What was started, stopped in reverse by one action: on a failed start as on SIGTERM.
    var started = new java.util.ArrayDeque<AutoCloseable>();
    started.push(registries);
    Runnable stop =
        () -> {
          while (!started.isEmpty()) {
            try {
              started.pop().close();
            } catch (Exception e) {
              err.println("archway-operator: stopping: " + e);
            }
          }
        };
    boolean running = false;
    try {
      var sink = etcd.sink();
      started.push(sink);
      var seeder = new Seeder(new EtcdConfigSource(etcd.source()), sink, registries);
      started.push(seeder);
      metrics.gauge("archway_operator_seed_writes_total", seeder::writes);
      metrics.gauge("archway_operator_seed_conflicts_total", seeder::conflicts);
      metrics.gauge("archway_operator_seed_objects", seeder::objects);
      if (port > 0) {
        var server = MetricsServer.start(new InetSocketAddress(port), metrics, () -> true);
        started.addLast(server); // closed last: the seed stops before anything it writes through
      }
      seeder.start();
      running = true;
    } catch (RuntimeException | IOException e) {
      err.println("archway-operator: cannot start: " + e.getMessage());
      return 1;
    } finally {
      if (!running) {
        stop.run();
      }
    }
    RunCommand.untilShutdown("archway-seed-shutdown", stop);
    return 0;
  }
}
