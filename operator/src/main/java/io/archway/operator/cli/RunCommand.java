package io.archway.operator.cli;

import io.archway.model.Keys;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.source.EtcdTls;
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

  @Option(
      names = "--etcd",
      paramLabel = "URL[,URL...]",
      description = "etcd endpoints (default: http://127.0.0.1:2379)")
  String etcd = "http://127.0.0.1:2379";

  @Option(
      names = "--prefix",
      paramLabel = "PREFIX",
      description = "etcd key prefix (default: /apisix)")
  String prefix = Keys.DEFAULT_PREFIX;

  @Option(
      names = "--etcd-user",
      paramLabel = "USER",
      description =
          "etcd user (or ARCHWAY_ETCD_USER); the password from --etcd-password or"
              + " ARCHWAY_ETCD_PASSWORD")
  String etcdUser = System.getenv("ARCHWAY_ETCD_USER");

  @Option(names = "--etcd-password", paramLabel = "PASS", description = "etcd password")
  String etcdPassword = System.getenv("ARCHWAY_ETCD_PASSWORD");

  @Option(
      names = "--etcd-ca",
      paramLabel = "FILE",
      description = "CA certificates (PEM) that sign etcd's, for https:// endpoints")
  String etcdCa;

  @Option(
      names = "--etcd-cert",
      paramLabel = "FILE",
      description = "client certificate (PEM) for etcd's --client-cert-auth")
  String etcdCert;

  @Option(names = "--etcd-key", paramLabel = "FILE", description = "its private key (PEM)")
  String etcdKey;

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

  @Option(
      names = "--zookeeper-connect",
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description =
          "follow ZooKeeper (apisix-seed's layout): ApisixUpstreams with discovery: {type:"
              + " zookeeper, serviceName: NAME} get the nodes of the znode ROOT/NAME written into"
              + " etcd (default: none)")
  String zookeeperConnect;

  @Option(
      names = "--zookeeper-root",
      paramLabel = "PATH",
      description = "the parent znode of the services (default: /zookeeper)")
  String zookeeperRoot = io.archway.operator.registry.ZooKeeperRegistry.Settings.DEFAULT_ROOT;

  @Option(
      names = "--dns-discovery",
      paramLabel = "dataplane|operator",
      description =
          "who resolves ApisixUpstreams with discovery: {type: dns}: the dataplane (default; each"
              + " dataplane asks DNS itself) or the operator, which writes the nodes into etcd")
  String dnsDiscovery = "dataplane";

  @Option(
      names = "--dns-server",
      paramLabel = "HOST[:PORT][,HOST[:PORT]...]",
      description =
          "the DNS servers the operator asks under --dns-discovery operator (default: the"
              + " system's)")
  String dnsServers;

  @Option(
      names = "--registry-add-delay",
      paramLabel = "SECONDS",
      description =
          "a registry's node set that only adds nodes is written once it has held this long"
              + " (default: 2)")
  String registryAddDelay;

  @Option(
      names = "--registry-remove-delay",
      paramLabel = "SECONDS",
      description =
          "a registry's node set that takes nodes away is written once it has held this long"
              + " (default: 10)")
  String registryRemoveDelay;

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
    var endpoints = List.of(etcd.split(","));
    try {
      Keys.of(prefix);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--prefix: " + e.getMessage());
    }
    int metrics = integer("--metrics-port", metricsPort, 9092, 0, 65535);
    int leaseSeconds = integer("--lease-duration", leaseDuration, 15, 3, 3600);
    if (publishService != null && !publishService.matches("[^/]+/[^/]+")) {
      throw new UsageException(
          "--publish-service: \"" + publishService + "\" (expected: namespace/name)");
    }
    var selector = dataplaneSelector();
    var tls = etcdTls();
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
      sink = EtcdConfigSink.connect(endpoints, prefix, etcdUser, etcdPassword, tls);
    } catch (IllegalArgumentException e) {
      client.close();
      throw new UsageException(e.getMessage());
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
      registries = registries();
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
    MetricsServer metricsServer = null;
    try {
      if (metrics > 0) {
        metricsServer = MetricsServer.start(new InetSocketAddress(metrics), operator);
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
      operator.close();
      registries.close();
      if (metricsServer != null) {
        metricsServer.close();
      }
      sink.close();
      client.close();
      return 1;
    }
    var stopped = new CountDownLatch(1);
    var started = metricsServer;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.close();
                  registries.close();
                  if (started != null) {
                    started.close();
                  }
                  sink.close();
                  client.close();
                  stopped.countDown();
                },
                "archway-operator-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** The registries the options point at, with their damping windows. */
  io.archway.operator.registry.Registries registries() throws UsageException {
    var add = seconds("--registry-add-delay", registryAddDelay, 2);
    var remove = seconds("--registry-remove-delay", registryRemoveDelay, 10);
    var list = new java.util.ArrayList<io.archway.operator.registry.Registry>();
    if (zookeeperConnect != null) {
      if (zookeeperConnect.isBlank()) {
        throw new UsageException(
            "--zookeeper-connect: \"\" (expected: HOST:PORT[,HOST:PORT...][/chroot])");
      }
      try {
        list.add(
            new io.archway.operator.registry.ZooKeeperRegistry(
                io.archway.operator.registry.ZooKeeperRegistry.Settings.of(zookeeperConnect)
                    .withRoot(zookeeperRoot)));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--zookeeper-connect, --zookeeper-root: " + e.getMessage());
      }
    }
    if (!"dataplane".equals(dnsDiscovery) && !"operator".equals(dnsDiscovery)) {
      throw new UsageException(
          "--dns-discovery: \"" + dnsDiscovery + "\" (expected: dataplane or operator)");
    }
    if (dnsServers != null && !"operator".equals(dnsDiscovery)) {
      throw new UsageException("--dns-server: only with --dns-discovery operator");
    }
    if ("operator".equals(dnsDiscovery)) {
      list.add(
          new io.archway.operator.registry.DnsRegistry(
              io.archway.operator.registry.DnsRegistry.Settings.of(dnsServers(dnsServers))));
    }
    return new io.archway.operator.registry.Registries(
        list,
        new io.archway.operator.registry.Registries.Settings(
            add,
            remove,
            io.archway.operator.registry.Registries.Settings.DEFAULT.firstAnswerWait()));
  }

  /** {@code --dns-server}: {@code host[:port]} entries (port 53 by default). */
  static List<InetSocketAddress> dnsServers(String v) throws UsageException {
    if (v == null) {
      return List.of();
    }
    var out = new java.util.ArrayList<InetSocketAddress>();
    for (var entry : v.split(",")) {
      var e = entry.strip();
      var host = e;
      int port = 53;
      int colon = e.lastIndexOf(':');
      if (colon > 0 && (e.indexOf(':') == colon || e.startsWith("["))) {
        host = e.substring(0, colon);
        port = integer("--dns-server", e.substring(colon + 1), 53, 1, 65535);
      }
      host =
          host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
      if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
        throw new UsageException(
            "--dns-server: \"" + e + "\" (expected: an IP address, optionally with :PORT)");
      }
      out.add(new InetSocketAddress(host, port));
    }
    return out;
  }

  private static Duration seconds(String name, String v, double dflt) throws UsageException {
    if (v == null) {
      return Duration.ofMillis((long) (dflt * 1000));
    }
    try {
      double d = Double.parseDouble(v);
      if (d >= 0 && d <= 3600) {
        return Duration.ofMillis((long) (d * 1000));
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    throw new UsageException(name + ": \"" + v + "\" (expected: seconds, 0..3600, e.g. 2 or 0.5)");
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

  private static int integer(String name, String v, int dflt, int min, int max)
      throws UsageException {
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

  /** TLS to etcd from --etcd-ca, --etcd-cert and --etcd-key; {@code null} when none is given. */
  private EtcdTls etcdTls() throws UsageException {
    try {
      return EtcdTls.fromFiles(
          etcdCa == null ? null : Path.of(etcdCa),
          etcdCert == null ? null : Path.of(etcdCert),
          etcdKey == null ? null : Path.of(etcdKey));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
