package io.archway.operator.cli;

import io.archway.model.sink.EtcdConfigSink;
import io.archway.operator.reconciler.ArchwayOperator;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code archway-operator run}: reconciles resources from Kubernetes into etcd until SIGTERM. The
 * options are read as text and checked here, so that each error names its option and what was
 * expected.
 */
@Command(
    name = "run",
    header = "reconcile resources from Kubernetes into etcd",
    customSynopsis = "archway-operator run [options]",
    description = {
      "",
      "Reconciles ApisixRoute, ApisixUpstream, StreamRoute, PluginFlow and Ingress into etcd.",
      ""
    },
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    sortOptions = false)
final class RunCommand implements Callable<Integer> {

  @ParentCommand OperatorCommand parent;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "kubeconfig to use (default: in-cluster, else $KUBECONFIG or ~/.kube/config)")
  String kubeconfig;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS[,NS...]",
      description = "watch only these namespaces (repeatable; default: all)")
  List<String> namespaces = new ArrayList<>();

  @Mixin EtcdOptions etcd = new EtcdOptions();

  @Option(
      names = "--ingress-class",
      paramLabel = "NAME",
      description = "the ingress class served (default: archway)")
  String ingressClass = "archway";

  @Option(
      names = "--publish-service",
      paramLabel = "NS/NAME",
      description = "the dataplane Service whose address goes into Ingress and Gateway status")
  String publishService;

  @Option(
      names = "--leader-election",
      description = "run under leader election on a Lease (for several replicas)")
  boolean leaderElection;

  @Option(
      names = "--lease-name",
      paramLabel = "NAME",
      description = "the Lease (default: archway-operator)")
  String leaseName = "archway-operator";

  @Option(
      names = "--lease-namespace",
      paramLabel = "NS",
      description = "the Lease's namespace (default: the pod's, else default)")
  String leaseNamespace;

  @Option(
      names = "--lease-duration",
      paramLabel = "SECONDS",
      description = "failover time after the leader is lost (default: 15)")
  String leaseDuration;

  @Option(
      names = "--metrics-port",
      paramLabel = "N",
      description = "/metrics, /healthz and /readyz (default: 9092; 0: off)")
  String metricsPort;

  @Option(
      names = "--control-plane-discovery",
      paramLabel = "off|marked|all",
      description =
          "write Services' ready endpoints into etcd as nodes, for the ApisixUpstreams marked"
              + " discovery: {type: controlplane} or for all Service backends (default: off, the"
              + " dataplane follows them)")
  String controlPlaneDiscovery = "off";

  @Mixin RegistryOptions registry = new RegistryOptions();

  @Option(
      names = "--no-seed",
      description =
          "do not seed etcd objects written without Kubernetes (the Admin API, etcdctl) whose"
              + " upstream names a registry followed (default: seeded, by the leader, as"
              + " archway-operator seed does). Objects seeded before keep the nodes last written"
              + " (frozen) until seeded again")
  boolean noSeed;

  @Option(
      names = "--dataplane-selector",
      paramLabel = "KEY=VALUE[,KEY=VALUE...]",
      description =
          "the labels of the dataplane pods, which the Service Archway creates per Gateway"
              + " (GatewayParameters with a service) selects (default: the chart's, release"
              + " archway: app.kubernetes.io/name=archway,app.kubernetes.io/instance=archway,"
              + "app.kubernetes.io/component=dataplane)")
  String dataplaneSelector;

  @Option(
      names = "--dataplane-privileged-ports",
      description =
          "the dataplane runs with --privileged-ports: a Gateway's Service sends ports below 1024"
              + " to the same port (default: to port + 10000, where the dataplane binds them)")
  boolean dataplanePrivilegedPorts;

  /** {@code --dataplane-selector} as a map (the chart's default when unset). */
  java.util.Map<String, String> dataplaneSelector() throws UsageException {
    if (dataplaneSelector == null) {
      return io.archway.operator.translate.GatewayServiceTranslator.Dataplane.DEFAULT_SELECTOR;
    }
    var out = new java.util.LinkedHashMap<String, String>();
    for (var pair : dataplaneSelector.split(",")) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1) {
        throw new UsageException(
            "--dataplane-selector: \"" + pair + "\" (expected: KEY=VALUE[,KEY=VALUE...])");
      }
      out.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
    }
    return out;
  }

  @Override
  public Integer call() throws UsageException {
    var err = parent.err;
    etcd.check();
    int metrics = integer("--metrics-port", metricsPort, 9092, 0, 65535);
    int leaseSeconds = integer("--lease-duration", leaseDuration, 15, 3, 3600);
    if (publishService != null && !publishService.matches("[^/]+/[^/]+")) {
      throw new UsageException(
          "--publish-service: \"" + publishService + "\" (expected: namespace/name)");
    }
    var selector = dataplaneSelector();
    Config config;
    try {
      config =
          kubeconfig == null
              ? new ConfigBuilder().build()
              : Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)));
    } catch (IOException e) {
      throw new UsageException("--kubeconfig " + kubeconfig + ": " + e.getMessage());
    }
    var client = new KubernetesClientBuilder().withConfig(config).build();
    EtcdConfigSink sink;
    try {
      sink = etcd.sink();
    } catch (UsageException e) {
      client.close();
      throw e;
    }
    var identity =
        identity(System.getenv("POD_NAME"), RunCommand::hostName, ProcessHandle.current().pid());
    var leaseNs =
        leaseNamespace != null
            ? leaseNamespace
            : config.getNamespace() == null ? "default" : config.getNamespace();
    var settings =
        new ArchwayOperator.Settings(
            namespaces(),
            ingressClass,
            publishService,
            leaderElection ? leaseName : null,
            leaseNs,
            identity,
            Duration.ofSeconds(leaseSeconds),
            ResourceFiles.controlPlaneDiscovery(controlPlaneDiscovery));
    io.archway.operator.registry.Registries registries;
    try {
      registries = registry.registries();
    } catch (UsageException e) {
      sink.close();
      client.close();
      throw e;
    }
    var operator =
        new ArchwayOperator(
            client,
            sink,
            settings,
            new io.archway.operator.translate.GatewayServiceTranslator.Dataplane(
                selector, dataplanePrivilegedPorts),
            registries);
    var seeder = seeder(operator, sink, registries);
    var metricsServer = new java.util.concurrent.atomic.AtomicReference<MetricsServer>();
    Runnable stop =
        () -> {
          // The seed first: it writes while the operator is closing otherwise.
          if (seeder != null) {
            seeder.close();
          }
          operator.close();
          registries.close();
          if (metricsServer.get() != null) {
            metricsServer.get().close();
          }
          sink.close();
          client.close();
        };
    try {
      if (metrics > 0) {
        metricsServer.set(MetricsServer.start(new InetSocketAddress(metrics), operator));
      }
      operator.onLostLeadership(
          () -> {
            err.println("archway-operator: lost the Lease " + leaseName + "; exiting");
            // Off the elector's thread: the shutdown hook stops the operator, elector included.
            new Thread(() -> System.exit(1), "archway-operator-exit").start();
          });
      operator.start();
    } catch (RuntimeException | IOException e) {
      err.println("archway-operator: cannot start: " + e.getMessage());
      stop.run();
      return 1;
    }
    untilShutdown("archway-operator-shutdown", stop);
    return 0;
  }

  /**
   * Waits until the JVM shuts down (SIGTERM), which runs {@code close} on a thread {@code name}.
   */
  static void untilShutdown(String name, Runnable close) {
    var stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  close.run();
                  stopped.countDown();
                },
                name));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The seed (apisix-seed's job for objects written without Kubernetes), started once this replica
   * leads; {@code null} with {@code --no-seed} or without a registry.
   */
  private io.archway.operator.seed.Seeder seeder(
      ArchwayOperator operator,
      EtcdConfigSink sink,
      io.archway.operator.registry.Registries registries)
      throws UsageException {
    if (noSeed || !registries.any()) {
      return null;
    }
    var seeder =
        new io.archway.operator.seed.Seeder(
            new io.archway.model.source.EtcdConfigSource(etcd.source()), sink, registries);
    operator.onLeading(seeder::start);
    operator.fenceOnLoss(seeder::fence);
    operator.metrics().gauge("archway_operator_seed_writes_total", seeder::writes);
    operator.metrics().gauge("archway_operator_seed_conflicts_total", seeder::conflicts);
    operator.metrics().gauge("archway_operator_seed_objects", seeder::objects);
    return seeder;
  }

  /**
   * This replica's name in the Lease: the pod's name, else the host's name and the process id, so
   * that two replicas on one host (or pods without {@code POD_NAME} sharing a host name) never hold
   * the Lease both under one name.
   */
  static String identity(String podName, java.util.function.Supplier<String> host, long pid) {
    if (podName != null && !podName.isBlank()) {
      return podName;
    }
    String h;
    try {
      h = host.get();
    } catch (RuntimeException e) {
      h = null;
    }
    return (h == null || h.isBlank() ? "archway-operator" : h) + "-" + pid;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return null;
    }
  }

  static int integer(String name, String v, int dflt, int min, int max) throws UsageException {
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v);
      if (n < min || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException(
          name + ": \"" + v + "\" (expected: an integer " + min + ".." + max + ")");
    }
  }

  /** {@code --namespace a,b --namespace c}: the set of them; empty for all. */
  private Set<String> namespaces() throws UsageException {
    var out = new TreeSet<String>();
    for (var v : namespaces) {
      for (var ns : v.split(",")) {
        var n = ns.trim();
        if (!n.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
          throw new UsageException("--namespace: \"" + n + "\" (expected: namespace names)");
        }
        out.add(n);
      }
    }
    return out;
  }
}
