package io.archway.operator.cli;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** The registry options {@code run} and {@code seed} share: which registries, how damped. */
final class RegistryOptions {

  @Option(
      names = "--zookeeper-connect",
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description =
          "follow ZooKeeper (apisix-seed's layout): upstreams naming service NAME of type"
              + " zookeeper (ApisixUpstreams' discovery: {type: zookeeper, serviceName: NAME};"
              + " objects' discovery_type: zookeeper, service_name: NAME) get the nodes of the"
              + " znode ROOT/NAME written into etcd (default: none)")
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
          "who resolves upstreams of discovery type dns (ApisixUpstreams' discovery: {type:"
              + " dns}; objects' discovery_type: dns): the dataplane (default; each dataplane asks"
              + " DNS itself) or the operator, which writes the nodes into etcd (objects written"
              + " with discovery_type: dns then hold static nodes and _discovery_type: dns; back"
              + " on dataplane, or without the seed, they keep those nodes, frozen, until written"
              + " again with discovery_type: dns)")
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
        port = RunCommand.integer("--dns-server", e.substring(colon + 1), 53, 1, 65535);
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
}
