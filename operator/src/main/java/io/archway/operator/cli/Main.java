package io.archway.operator.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.operator.reconciler.ArchwayOperator;
import io.archway.operator.translate.Conflicts;
import io.archway.operator.translate.Manifests;
import io.archway.operator.translate.Translation;
import io.archway.operator.translate.Translators;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * {@code archway-operator run|translate|validate [options]}; {@code --help} on each lists its
 * options.
 */
public final class Main {

  static final String USAGE =
      """
      Usage: archway-operator <command> [options]

      Commands:
        run         reconcile resources from Kubernetes into etcd
        translate   render resource files as a standalone apisix.yaml (GitOps previews, local runs)
        validate    check resource files; every error with file, object and field; exit 1 on any
        flow        draw the PluginFlows in resource files as Graphviz DOT or Mermaid

      archway-operator <command> --help lists the command's options.
      """;

  static final String RUN_HELP =
      """
      Usage: archway-operator run [options]

      Reconciles ApisixRoute, ApisixUpstream, StreamRoute, PluginFlow and Ingress into etcd.

        --kubeconfig FILE        kubeconfig to use (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
        --namespace NS[,NS...]   watch only these namespaces (default: all)
        --etcd URL[,URL...]      etcd endpoints (default: http://127.0.0.1:2379)
        --prefix PREFIX          etcd key prefix (default: /apisix)
        --etcd-user USER         etcd user (or ARCHWAY_ETCD_USER); the password from
                                 --etcd-password or ARCHWAY_ETCD_PASSWORD
        --etcd-password PASS     etcd password
        --etcd-ca FILE           CA certificates (PEM) that sign etcd's, for https:// endpoints
        --etcd-cert FILE         client certificate (PEM) for etcd's --client-cert-auth
        --etcd-key FILE          its private key (PEM)
        --ingress-class NAME     the ingress class served (default: archway)
        --publish-service NS/NAME  the dataplane Service whose address goes into Ingress status
        --leader-election        run under leader election on a Lease (for several replicas)
        --lease-name NAME        the Lease (default: archway-operator)
        --lease-namespace NS     the Lease's namespace (default: the pod's, else default)
        --lease-duration SECONDS failover time after the leader is lost (default: 15)
        --metrics-port N         /metrics, /healthz and /readyz (default: 9092; 0: off)
        --control-plane-discovery off|marked|all
                                 write Services' ready endpoints into etcd as nodes, for the
                                 ApisixUpstreams marked discovery: {type: controlplane} or for
                                 all Service backends (default: off, the dataplane follows them)
        --help                   this text
      """;

  static final String TRANSLATE_HELP =
      """
      Usage: archway-operator translate -f FILE|DIR [-f ...] [options]

      Prints the standalone apisix.yaml the resources translate to (the dataplane runs it with
      --standalone FILE). Resources that are not valid are left out and reported on stderr.

        -f, --filename FILE|DIR  resource files (.yaml, .yml, .json; directories are walked)
        -n, --namespace NS       namespace of resources that name none (default: default)
        -o, --output FILE        write there instead of stdout
        --control-plane-discovery off|marked|all
                                 nodes from the EndpointSlices in the files (as run does)
        --help                   this text
      """;

  static final String VALIDATE_HELP =
      """
      Usage: archway-operator validate -f FILE|DIR [-f ...] [options]

      Checks every ApisixRoute, ApisixUpstream, StreamRoute, PluginFlow and Ingress in the files
      as the operator would; prints each error as FILE:DOC: Kind namespace/name: field: message.
      Exit status 0 when all are valid, 1 when any is not, 2 on a usage error.

        -f, --filename FILE|DIR  resource files (.yaml, .yml, .json; directories are walked)
        -n, --namespace NS       namespace of resources that name none (default: default)
        --control-plane-discovery off|marked|all
                                 check as the operator with that setting would
        --help                   this text
      """;

  static final String FLOW_HELP =
      """
      Usage: archway-operator flow -f FILE|DIR [-f ...] [options]

      Draws each PluginFlow in the files (checked as the operator would) as a graph: its nodes
      with their plugins, its edges with their conditions, the default edges dashed.
      Render DOT with Graphviz (dot -Tsvg); Mermaid renders in GitHub and most wikis.

        -f, --filename FILE|DIR  resource files (.yaml, .yml, .json; directories are walked)
        -n, --namespace NS       namespace of resources that name none (default: default)
        --format dot|mermaid     the drawing's language (default: dot)
        --name NAME              only the PluginFlow of this name
        -o, --output FILE        write there instead of stdout
        --help                   this text
      """;

  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    var rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      return switch (args[0]) {
        case "run" -> runOperator(options(rest, RUN_HELP, out), err);
        case "translate" -> translate(options(rest, TRANSLATE_HELP, out), out, err);
        case "validate" -> validate(options(rest, VALIDATE_HELP, out), out, err);
        case "flow" -> flow(options(rest, FLOW_HELP, out), out, err);
        default -> throw new UsageException("unknown command \"" + args[0] + "\"");
      };
    } catch (HelpShown e) {
      return 0;
    } catch (UsageException e) {
      err.println("archway-operator: " + e.getMessage());
      err.println(
          "Try archway-operator " + (args[0].startsWith("-") ? "" : args[0] + " ") + "--help.");
      return 2;
    }
  }

  private static final class HelpShown extends RuntimeException {
    HelpShown() {
      super(null, null, false, false);
    }
  }

  /** Options as name → values; flags map to an empty list. */
  static Map<String, List<String>> options(String[] args, String help, PrintStream out)
      throws UsageException {
    var aliases = Map.of("-f", "--filename", "-n", "--namespace", "-o", "--output");
    var flags = List.of("--leader-election");
    var known = new ArrayList<String>();
    for (var line : help.split("\n")) {
      var t = line.strip();
      for (var word : t.split("[ ,]+")) {
        if (word.startsWith("--")) {
          known.add(word);
        }
      }
    }
    var opts = new LinkedHashMap<String, List<String>>();
    for (int i = 0; i < args.length; i++) {
      var a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        out.print(help);
        throw new HelpShown();
      }
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      a = aliases.getOrDefault(a, a);
      if (!known.contains(a)) {
        throw new UsageException("unknown option \"" + args[i] + "\"");
      }
      if (flags.contains(a)) {
        opts.computeIfAbsent(a, k -> new ArrayList<>());
        continue;
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new UsageException(a + " needs a value");
        }
        value = args[++i];
      }
      opts.computeIfAbsent(a, k -> new ArrayList<>()).add(value);
    }
    return opts;
  }

  private static String one(Map<String, List<String>> o, String name, String dflt) {
    var v = o.get(name);
    return v == null || v.isEmpty() ? dflt : v.get(v.size() - 1);
  }

  private static int intOption(Map<String, List<String>> o, String name, int dflt, int min, int max)
      throws UsageException {
    var v = one(o, name, null);
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

  private static io.archway.operator.translate.Refs.ControlPlaneDiscovery controlPlaneDiscovery(
      Map<String, List<String>> o) throws UsageException {
    var v = one(o, "--control-plane-discovery", "off");
    try {
      return io.archway.operator.translate.Refs.ControlPlaneDiscovery.valueOf(
          v.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          "--control-plane-discovery: \"" + v + "\" (expected: off, marked or all)");
    }
  }

  /** {@code --namespace a,b --namespace c}: the set of them; empty for all. */
  private static java.util.Set<String> namespaces(List<String> values) throws UsageException {
    var out = new java.util.TreeSet<String>();
    if (values != null) {
      for (var v : values) {
        for (var ns : v.split(",")) {
          var n = ns.trim();
          if (!n.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new UsageException("--namespace: \"" + n + "\" (expected: namespace names)");
          }
          out.add(n);
        }
      }
    }
    return out;
  }

  private static Manifests read(Map<String, List<String>> o, PrintStream err)
      throws UsageException {
    var files = o.get("--filename");
    if (files == null || files.isEmpty()) {
      throw new UsageException("-f FILE|DIR is required");
    }
    var m = new Manifests(one(o, "--namespace", "default"), controlPlaneDiscovery(o));
    for (var f : files) {
      var p = Path.of(f);
      if (!Files.exists(p)) {
        throw new UsageException("-f " + f + ": no such file or directory");
      }
      try {
        m.read(p);
      } catch (IOException e) {
        throw new UsageException("-f " + f + ": " + e.getMessage());
      }
    }
    return m;
  }

  /** Each translatable resource with its translation, conflicts included. */
  private static Map<Manifests.Doc, Translation> translateAll(Manifests m) {
    var out = new LinkedHashMap<Manifests.Doc, Translation>();
    var all = m.docs().stream().map(Manifests.Doc::resource).toList();
    for (var d : m.docs()) {
      Translators.translate(d.resource(), m)
          .ifPresent(
              t -> {
                Conflicts.check(d.resource(), all, t);
                d.unknownFields()
                    .forEach(
                        f ->
                            t.errors()
                                .add(
                                    new Translation.FieldError(
                                        f,
                                        "unknown field (the API server would drop it; check the"
                                            + " spelling)")));
                out.put(d, t);
              });
    }
    return out;
  }

  static int validate(Map<String, List<String>> o, PrintStream out, PrintStream err)
      throws UsageException {
    var m = read(o, err);
    int bad = 0;
    for (var u : m.unreadable()) {
      out.println(u.source() + ": " + u.message());
      bad++;
    }
    int checked = 0;
    for (var e : translateAll(m).entrySet()) {
      checked++;
      var d = e.getKey();
      var t = e.getValue();
      for (var w : t.warnings()) {
        out.println(d.source() + ": " + d.describe() + ": warning: " + w);
      }
      if (!t.ok()) {
        bad++;
        for (var fe : t.errors()) {
          out.println(d.source() + ": " + d.describe() + ": " + fe);
        }
      }
    }
    out.println(checked + " resource(s) checked, " + bad + " with errors");
    return bad == 0 ? 0 : 1;
  }

  static int translate(Map<String, List<String>> o, PrintStream out, PrintStream err)
      throws UsageException {
    var m = read(o, err);
    m.unreadable().forEach(u -> err.println(u.source() + ": " + u.message()));
    var sections = new TreeMap<Kind, List<ObjectNode>>();
    int bad = m.unreadable().size();
    for (var e : translateAll(m).entrySet()) {
      var d = e.getKey();
      var t = e.getValue();
      t.warnings().forEach(w -> err.println(d.source() + ": " + d.describe() + ": warning: " + w));
      if (!t.ok()) {
        bad++;
        t.errors()
            .forEach(
                fe -> err.println(d.source() + ": " + d.describe() + ": " + fe + " (left out)"));
        continue;
      }
      for (var item : t.items()) {
        sections
            .computeIfAbsent(item.kind(), k -> new ArrayList<>())
            .add((ObjectNode) ModelJson.toTree(item.object()));
      }
    }
    var doc = ModelJson.mapper().createObjectNode();
    sections.forEach((kind, items) -> doc.putArray(kind.dir()).addAll(items));
    String yaml;
    try {
      var mapper =
          new com.fasterxml.jackson.databind.ObjectMapper(
              YAMLFactory.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).build());

      yaml = (doc.isEmpty() ? "{}\n" : mapper.writeValueAsString(doc)) + "#END\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    var file = one(o, "--output", null);
    if (file == null) {
      out.print(yaml);
    } else {
      try {
        Files.writeString(Path.of(file), yaml, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UsageException("-o " + file + ": " + e.getMessage());
      }
    }
    return bad == 0 ? 0 : 1;
  }

  static int flow(Map<String, List<String>> o, PrintStream out, PrintStream err)
      throws UsageException {
    var format = one(o, "--format", "dot");
    if (!format.equals("dot") && !format.equals("mermaid")) {
      throw new UsageException("--format: \"" + format + "\" (expected: dot or mermaid)");
    }
    var only = one(o, "--name", null);
    var m = read(o, err);
    m.unreadable().forEach(u -> err.println(u.source() + ": " + u.message()));
    var text = new StringBuilder();
    int drawn = 0;
    int bad = 0;
    for (var e : translateAll(m).entrySet()) {
      var d = e.getKey();
      if (!(d.resource() instanceof io.archway.crds.archway.PluginFlow pf)
          || (only != null && !only.equals(pf.getMetadata().getName()))) {
        continue;
      }
      var t = e.getValue();
      if (!t.ok()) {
        bad++;
        t.errors().forEach(fe -> err.println(d.source() + ": " + d.describe() + ": " + fe));
        continue;
      }
      for (var item : t.items()) {
        if (item.object() instanceof io.archway.model.PluginFlow flow) {
          var name = pf.getMetadata().getNamespace() + "/" + pf.getMetadata().getName();
          if (format.equals("dot")) {
            text.append(FlowDiagrams.dot(name, flow));
          } else {
            text.append("%% PluginFlow ").append(name).append('\n');
            text.append(FlowDiagrams.mermaid(flow));
          }
          drawn++;
        }
      }
    }
    if (drawn == 0 && bad == 0) {
      throw new UsageException(
          "no PluginFlow" + (only == null ? "" : " named " + only) + " in the files");
    }
    var file = one(o, "--output", null);
    if (file == null) {
      out.print(text);
    } else {
      try {
        Files.writeString(Path.of(file), text, StandardCharsets.UTF_8);
      } catch (IOException ex) {
        throw new UsageException("-o " + file + ": " + ex.getMessage());
      }
    }
    return bad == 0 ? 0 : 1;
  }

  /** TLS to etcd from --etcd-ca, --etcd-cert and --etcd-key; {@code null} when none is given. */
  static io.archway.model.source.EtcdTls etcdTls(Map<String, List<String>> o)
      throws UsageException {
    var ca = one(o, "--etcd-ca", null);
    var cert = one(o, "--etcd-cert", null);
    var key = one(o, "--etcd-key", null);
    try {
      return io.archway.model.source.EtcdTls.fromFiles(
          ca == null ? null : Path.of(ca),
          cert == null ? null : Path.of(cert),
          key == null ? null : Path.of(key));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  static int runOperator(Map<String, List<String>> o, PrintStream err) throws UsageException {
    var etcd = List.of(one(o, "--etcd", "http://127.0.0.1:2379").split(","));
    var prefix = one(o, "--prefix", Keys.DEFAULT_PREFIX);
    try {
      Keys.of(prefix);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--prefix: " + e.getMessage());
    }
    int metricsPort = intOption(o, "--metrics-port", 9092, 0, 65535);
    int leaseSeconds = intOption(o, "--lease-duration", 15, 3, 3600);
    var publish = one(o, "--publish-service", null);
    if (publish != null && !publish.matches("[^/]+/[^/]+")) {
      throw new UsageException("--publish-service: \"" + publish + "\" (expected: namespace/name)");
    }
    var user = one(o, "--etcd-user", System.getenv("ARCHWAY_ETCD_USER"));
    var password = one(o, "--etcd-password", System.getenv("ARCHWAY_ETCD_PASSWORD"));
    var tls = etcdTls(o);
    var kubeconfig = one(o, "--kubeconfig", null);
    Config config;
    try {
      config =
          kubeconfig == null
              ? new io.fabric8.kubernetes.client.ConfigBuilder().build()
              : Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)));
    } catch (IOException e) {
      throw new UsageException("--kubeconfig " + kubeconfig + ": " + e.getMessage());
    }
    var client = new KubernetesClientBuilder().withConfig(config).build();
    EtcdConfigSink sink;
    try {
      sink = EtcdConfigSink.connect(etcd, prefix, user, password, tls);
    } catch (IllegalArgumentException e) {
      client.close();
      throw new UsageException(e.getMessage());
    }
    String identity;
    try {
      identity = System.getenv().getOrDefault("POD_NAME", InetAddress.getLocalHost().getHostName());
    } catch (IOException e) {
      identity = "archway-operator-" + ProcessHandle.current().pid();
    }
    var leaseNs =
        one(
            o,
            "--lease-namespace",
            config.getNamespace() == null ? "default" : config.getNamespace());
    var settings =
        new ArchwayOperator.Settings(
            namespaces(o.get("--namespace")),
            one(o, "--ingress-class", "archway"),
            publish,
            o.containsKey("--leader-election") ? one(o, "--lease-name", "archway-operator") : null,
            leaseNs,
            identity,
            Duration.ofSeconds(leaseSeconds),
            controlPlaneDiscovery(o));
    var operator = new ArchwayOperator(client, sink, settings);
    MetricsServer metrics = null;
    try {
      if (metricsPort > 0) {
        metrics = MetricsServer.start(new InetSocketAddress(metricsPort), operator);
      }
      operator.start();
    } catch (RuntimeException | IOException e) {
      err.println("archway-operator: cannot start: " + e.getMessage());
      operator.close();
      if (metrics != null) {
        metrics.close();
      }
      sink.close();
      client.close();
      return 1;
    }
    var stopped = new CountDownLatch(1);
    var metricsServer = metrics;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.close();
                  if (metricsServer != null) {
                    metricsServer.close();
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
}
