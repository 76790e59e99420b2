package io.archway.dataplane.cli;

import io.archway.dataplane.server.DataplaneOptions;
import io.archway.model.BuildInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The dataplane's command line. picocli reads the options as text; {@link OptionsBuilder} checks
 * each (so an error names the option the way it names a config file's field) and lays them over the
 * {@code --config} file's.
 */
@Command(
    name = "archway-dataplane",
    customSynopsis = "java -jar archway-dataplane.jar [options]",
    description = {
      "",
      "Runs the Archway dataplane. The config comes from a standalone file (the default), etcd,",
      "or an xDS management server (Istio).",
      ""
    },
    optionListHeading = "Options:%n",
    mixinStandardHelpOptions = true,
    versionProvider = DataplaneCommand.Version.class,
    usageHelpWidth = 100,
    usageHelpAutoWidth = false,
    sortOptions = false)
final class DataplaneCommand {

  /** {@code --help} was asked for. */
  static final class HelpRequested extends Exception {
    HelpRequested() {
      super(null, null, false, false);
    }
  }

  /** {@code --version} was asked for. */
  static final class VersionRequested extends Exception {
    VersionRequested() {
      super(null, null, false, false);
    }
  }

  /** {@code --check FILE} was asked for: check the file, start nothing. */
  static final class CheckRequested extends Exception {
    final Path file;

    CheckRequested(Path file) {
      super(null, null, false, false);
      this.file = file;
    }
  }

  /** The product version and the commit it was built from, for {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {BuildInfo.current().describe("archway-dataplane")};
    }
  }

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "dataplane settings in YAML (see dataplane/README.md); options given on the command"
              + " line override the file")
  String config;

  @Option(
      names = "--standalone",
      paramLabel = "FILE",
      description = {
        "serve the routes, upstreams, ... in FILE, APISIX's apisix.yaml shape",
        "ending with #END; reloaded when it changes (default: conf/apisix.yaml)"
      })
  String standalone;

  @Option(
      names = "--check",
      paramLabel = "FILE",
      description = {
        "check a standalone FILE and exit, starting nothing: 0 when it can be served,",
        "1 with each problem as FILE:LINE: object: field: what is wrong"
      })
  String check;

  @Option(
      names = "--etcd",
      paramLabel = "URL[,URL...]",
      description = "take the config from etcd instead, e.g. http://127.0.0.1:2379")
  String etcd;

  @Option(
      names = "--xds",
      paramLabel = "HOST:PORT",
      description = {
        "take the config from an xDS management server instead (ADS, plaintext gRPC),",
        "e.g. istiod.istio-system.svc:15010 (see docs/xds.md)"
      })
  String xds;

  @Option(
      names = "--xds-node-id",
      paramLabel = "ID",
      description =
          "xDS node id (default: router~$INSTANCE_IP~$POD_NAME.$POD_NAMESPACE~"
              + "$POD_NAMESPACE.svc.cluster.local, an Istio gateway's)")
  String xdsNodeId;

  @Option(
      names = "--xds-cluster",
      paramLabel = "NAME",
      description = "xDS node cluster (default: istio-ingressgateway)")
  String xdsCluster;

  @Option(
      names = "--xds-protocol",
      paramLabel = "sotw|delta",
      description = "xDS variant: state of the world (default) or delta (incremental)")
  String xdsProtocol;

  @Option(
      names = "--xds-sds",
      paramLabel = "ADDRESS",
      description = {
        "Istio's agent's SDS server (cluster sds-grpc) for the workload certificate of auto mTLS,",
        "unix:///PATH or HOST:PORT, e.g. unix:///var/run/secrets/workload-spiffe-uds/socket"
      })
  String xdsSds;

  @Option(
      names = "--xds-initial-fetch-timeout",
      paramLabel = "SECONDS",
      description = {
        "how long the first complete xDS config may take before what came is served,",
        "not ready until complete (default: 0, wait for the full config, as Istio sets it)"
      })
  String xdsInitialFetchTimeout;

  @Option(
      names = "--prefix",
      paramLabel = "PREFIX",
      description = "etcd key prefix (default: /apisix)")
  String prefix;

  @Option(
      names = "--etcd-user",
      paramLabel = "USER",
      description =
          "etcd user (or ARCHWAY_ETCD_USER; password from --etcd-password or"
              + " ARCHWAY_ETCD_PASSWORD)")
  String etcdUser;

  @Option(names = "--etcd-password", paramLabel = "PASS", description = "etcd password")
  String etcdPassword;

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
      names = "--bind",
      paramLabel = "ADDRESS",
      description = "address the listeners bind (default: 0.0.0.0)")
  String bind;

  @Option(names = "--http-port", paramLabel = "N", description = "HTTP listener (default: 9080)")
  String httpPort;

  @Option(
      names = "--https-port",
      paramLabel = "N",
      description = "HTTPS listener, certificates from ssls objects (default: 9443)")
  String httpsPort;

  @Option(
      names = "--h2c",
      description =
          "also take cleartext HTTP/2 (h2c) on the HTTP listener: prior knowledge and Upgrade: h2c"
              + " (default: off; HTTPS offers h2 by ALPN unless http2.tls is false)")
  boolean h2c;

  @Option(
      names = "--privileged-ports",
      description =
          "listeners objects on ports below 1024 bind those ports (needs root or"
              + " CAP_NET_BIND_SERVICE; default: they bind port + 10000, server_port stays the"
              + " declared port)")
  boolean privilegedPorts;

  @Option(
      names = "--status-port",
      paramLabel = "N",
      description = "/healthz, /readyz and /metrics (default: 9091)")
  String statusPort;

  @Option(
      names = "--shutdown-timeout",
      paramLabel = "S",
      description = "seconds in-flight work may take to finish on SIGTERM (default: 10)")
  String shutdownTimeout;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "I/O threads (default: one per core)")
  String workers;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      description =
          "client connections open at once on each traffic listener; one more is closed at once"
              + " (default: 10000; 0: no limit)")
  String maxConnections;

  @Option(
      names = "--memory-high-water",
      paramLabel = "P",
      description =
          "heap after GC or direct memory past this share of its limit: shed new work (503,"
              + " new connections closed, /readyz 503, request bodies paused), e.g. 90%% or 0.9"
              + " (default: 90%%; off: never)")
  String memoryHighWater;

  @Option(
      names = "--memory-low-water",
      paramLabel = "P",
      description = "shedding ends once heap and direct memory are both under this (default: 80%%)")
  String memoryLowWater;

  @Option(
      names = "--access-log",
      paramLabel = "WHERE",
      description = "- (standard output, the default), a file, or off")
  String accessLog;

  @Option(
      names = "--client-max-body-size",
      paramLabel = "BYTES",
      description = "largest request body; larger gets 413 (default: 0, no limit)")
  String clientMaxBodySize;

  @Option(
      names = "--stream-port",
      paramLabel = "N[,N...]",
      description = "TCP listeners for stream routes (repeatable; default: none)")
  List<String> streamPorts = new ArrayList<>();

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "Kubernetes API access for upstreams with discovery_type kubernetes (default:"
              + " in-cluster, else $KUBECONFIG or ~/.kube/config)")
  String kubeconfig;

  @Option(
      names = "--kube-api",
      paramLabel = "URL",
      description = "Kubernetes API server URL instead of a kubeconfig")
  String kubeApi;

  @Option(
      names = "--admin-port",
      paramLabel = "N|off",
      description = "Admin API (/apisix/admin) port; off: no Admin API (default: 9180)")
  String adminPort;

  @Option(
      names = "--admin-address",
      paramLabel = "ADDRESS",
      description = "address the Admin API binds (default: 127.0.0.1)")
  String adminAddress;

  @Option(
      names = "--admin-key",
      paramLabel = "KEY",
      description =
          "X-API-KEY of the admin role, read and write (or ARCHWAY_ADMIN_KEY); without a key the"
              + " Admin API only starts on loopback")
  String adminKey;

  @Option(
      names = "--viewer-key",
      paramLabel = "KEY",
      description = "X-API-KEY of the viewer role, read only (or ARCHWAY_VIEWER_KEY)")
  String viewerKey;

  @Option(
      names = "--admin-allow",
      paramLabel = "CIDR[,CIDR...]",
      description = "clients the Admin API answers (default: any that reach the address)")
  String adminAllow;

  @Option(
      names = "--admin-allow-origin",
      paramLabel = "ORIGIN",
      description =
          "a browser origin (scheme://host[:port], or *) allowed to call the Admin API besides its"
              + " own; repeatable (default: a request with another Origin is refused)")
  List<String> adminAllowOrigins;

  @Option(
      names = "--admin-allow-host",
      paramLabel = "NAME",
      description =
          "a Host name the Admin API answers besides localhost, IP addresses and --admin-address"
              + " (or *); repeatable (default: without a key other names are refused, against DNS"
              + " rebinding; with a key any name)")
  List<String> adminAllowHosts;

  @Option(
      names = "--admin-persist",
      description =
          "standalone mode: write Admin API changes back to the --standalone file (default: in"
              + " memory only)")
  boolean adminPersist;

  @Option(
      names = "--admin-on-http-port",
      description =
          "also serve /apisix/admin on the HTTP port, as APISIX 2.x did (default: admin port only)")
  boolean adminOnHttpPort;

  @Option(
      names = "--admin-apply-timeout",
      paramLabel = "SECONDS",
      description =
          "with --etcd, how long an Admin API write waits for this node to serve it before it"
              + " answers anyway, with X-Archway-Applied: false (default: 5)")
  String adminApplyTimeout;

  private DataplaneCommand() {}

  static CommandLine commandLine(DataplaneCommand command) {
    return new CommandLine(command)
        // The last of a repeated option wins, as in most tools (and as the file's value loses).
        .setOverwrittenOptionsAllowed(true)
        .setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
  }

  /** Every option that takes a value: the ones {@code --config}'s file can also set, and more. */
  static final Set<String> OPTIONS =
      commandLine(new DataplaneCommand()).getCommandSpec().options().stream()
          .filter(o -> !o.usageHelp() && !o.versionHelp())
          .map(CommandLine.Model.OptionSpec::longestName)
          .collect(Collectors.toUnmodifiableSet());

  /** What {@code --help} prints. */
  static String usage() {
    // Shown with a space before the value ("--http-port N") as most tools' help writes it;
    // both that and "--http-port=N" are read.
    return commandLine(new DataplaneCommand()).setSeparator(" ").getUsageMessage();
  }

  /**
   * The options of the command line {@code args} and of the {@code --config} file it names.
   *
   * @throws HelpRequested for {@code --help}, wherever it is and whatever else is there
   * @throws VersionRequested for {@code --version}
   * @throws CheckRequested for {@code --check FILE}
   * @throws UsageException for anything not understood or not valid
   */
  static DataplaneOptions parse(String... args)
      throws UsageException, HelpRequested, VersionRequested, CheckRequested {
    var list = Arrays.asList(args);
    if (list.contains("--help") || list.contains("-h")) {
      throw new HelpRequested();
    }
    if (list.contains("--version") || list.contains("-V")) {
      throw new VersionRequested();
    }
    var command = new DataplaneCommand();
    CommandLine.ParseResult result;
    try {
      result = commandLine(command).parseArgs(args);
    } catch (CommandLine.UnmatchedArgumentException e) {
      var name = e.getUnmatched().isEmpty() ? "" : e.getUnmatched().get(0);
      int eq = name.indexOf('=');
      if (name.startsWith("--") && eq > 0) {
        name = name.substring(0, eq);
      }
      throw new UsageException(
          (name.startsWith("-") ? "unknown option " + name : "unexpected argument \"" + name + "\"")
              + " (expected one of the options in --help)",
          e);
    } catch (CommandLine.MissingParameterException e) {
      throw new UsageException(needsValue(e.getMissing()), e);
    } catch (CommandLine.ParameterException e) {
      throw new UsageException(e.getMessage(), e);
    }
    // "--http-port --status-port 1": a value that is an option name was meant as an option.
    for (var option : result.matchedOptions()) {
      for (var value : option.originalStringValues()) {
        if (value.startsWith("--")) {
          throw new UsageException(option.longestName() + " needs a value (see --help)");
        }
      }
    }
    if (command.check != null) {
      if (result.matchedOptions().size() > 1) {
        throw new UsageException("--check takes a file and no other option (it starts nothing)");
      }
      throw new CheckRequested(Path.of(command.check));
    }
    var builder = new OptionsBuilder();
    // The file first, so that the command line overrides it.
    if (command.config != null) {
      builder.readConfigFile(Path.of(command.config));
    }
    builder.apply(command);
    return builder.build();
  }

  private static String needsValue(List<CommandLine.Model.ArgSpec> missing) {
    var name =
        missing.isEmpty() || !(missing.get(0) instanceof CommandLine.Model.OptionSpec o)
            ? "an option"
            : o.longestName();
    return name + " needs a value (see --help)";
  }
}
