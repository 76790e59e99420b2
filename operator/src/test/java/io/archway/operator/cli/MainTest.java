package io.archway.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Keys;
import io.archway.model.source.StandaloneFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {

  private static final String FIXTURES = "src/test/resources/translate/";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void validatePassesValidFilesAndReportsEveryErrorWithFileObjectAndField() {
    assertThat(run("validate", "-f", FIXTURES + "ar-full")).isZero();
    assertThat(out()).contains("2 resource(s) checked, 0 with errors");

    out.reset();
    assertThat(
            run("validate", "-f", FIXTURES + "ar-bad-plugin-config", "-f", FIXTURES + "pf-cycle"))
        .isEqualTo(1);
    assertThat(out())
        .contains(
            "ar-bad-plugin-config/input.yaml:1: ApisixRoute default/r:"
                + " spec.http[0].plugins[0].config.count: 0 (expected: >= 1)")
        .contains("spec.http[0].plugins[1].config.rejected_cod: unknown field")
        .contains("pf-cycle/input.yaml:1: PluginFlow default/loop: spec.edges: loop a -> b -> a")
        .contains("2 resource(s) checked, 2 with errors");
  }

  @Test
  void etcdTlsOptionsAreCheckedBeforeAnythingStarts() {
    assertThat(run("run", "--etcd-cert", "src/test/resources/tls/app.crt")).isEqualTo(2);
    assertThat(err()).contains("--etcd-cert and --etcd-key go together");
    assertThat(run("run", "--etcd-ca", "no/such/ca.crt")).isEqualTo(2);
    assertThat(err()).contains("no/such/ca.crt: no such file or not readable (etcd TLS)");
  }

  @Test
  void seedNeedsARegistryAndChecksItsOptionsBeforeAnythingStarts() {
    assertThat(run("seed", "--etcd", "http://127.0.0.1:1")).isEqualTo(2);
    assertThat(err())
        .contains("no registry to follow (expected: --zookeeper-connect, or --dns-discovery");
    assertThat(run("seed", "--prefix", "apisix", "--zookeeper-connect", "127.0.0.1:1"))
        .isEqualTo(2);
    assertThat(err()).contains("--prefix: prefix: \"apisix\"");
    assertThat(run("seed", "--dns-server", "10.0.0.53")).isEqualTo(2);
    assertThat(err()).contains("--dns-server: only with --dns-discovery operator");
  }

  @Test
  void theExamplesAreValid() {
    assertThat(run("validate", "-f", "../examples/kubernetes")).as(out()).isZero();
    assertThat(out()).contains("20 resource(s) checked, 0 with errors");
  }

  @Test
  void validateReportsFieldsTheKindDoesNotHave(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    var file = dir.resolve("typo.yaml");
    java.nio.file.Files.writeString(
        file,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixRoute
        metadata: {name: typo}
        spec:
          http:
          - name: r
            websockets: true
            match: {paths: [/], hosts: [a.example.com]}
            backend: {serviceName: web, servicePort: 80}
            plugins: [{name: cors, config: {allow_origins: "*"}}]
        """);
    assertThat(run("validate", "-f", file.toString())).isEqualTo(1);
    assertThat(out())
        .contains("ApisixRoute default/typo: spec.http[0].websockets: unknown field")
        .contains("ApisixRoute default/typo: spec.http[0].backend: unknown field")
        .doesNotContain("config.allow_origins");
  }

  @Test
  void validateReportsConflictsBetweenFiles() {
    assertThat(run("validate", "-f", FIXTURES + "ar-conflict")).isEqualTo(1);
    assertThat(out())
        .contains(
            "ApisixRoute default/newer: spec.http[0].match: host a.example.com path /shop/* is already served by ApisixRoute default/older");
  }

  @Test
  void translateWritesAStandaloneFileTheDataplaneReads() throws Exception {
    assertThat(
            run(
                "translate",
                "-f",
                FIXTURES + "ar-full",
                "-f",
                FIXTURES + "sr-redis",
                "-f",
                FIXTURES + "pf-graph"))
        .isZero();
    var yaml = out();
    assertThat(yaml).endsWith("#END\n");
    var items = StandaloneFile.parse(yaml.getBytes(StandardCharsets.UTF_8), "translated");
    assertThat(items.keySet().stream().map(Keys.Key::toString))
        .containsExactlyInAnyOrder(
            "routes/ar_prod_shop_api",
            "stream_routes/sr_data_cache_0",
            "stream_routes/sr_data_cache_1",
            "plugin_flows/pf_default_checkout");

    out.reset();
    assertThat(
            run(
                "translate",
                "-f",
                FIXTURES + "ar-plugin-config",
                "-f",
                FIXTURES + "agr-basic",
                "-f",
                FIXTURES + "acc-prometheus"))
        .isZero();
    items = StandaloneFile.parse(out().getBytes(StandardCharsets.UTF_8), "translated");
    assertThat(items.keySet().stream().map(Keys.Key::toString))
        .containsExactlyInAnyOrder(
            "routes/ar_default_web_local",
            "routes/ar_default_web_shared",
            "plugin_configs/apc_default_local-pc",
            "plugin_configs/apc_platform_shared",
            "global_rules/agr_ops_observability",
            "global_rules/acc_default");
  }

  @Test
  void theSeedFlowTranslatesToTheFlowTheStandaloneExampleRuns() throws Exception {
    assertThat(run("translate", "-f", "../examples/kubernetes/pluginflow-seed.yaml")).isZero();
    var translated =
        StandaloneFile.parse(out().getBytes(StandardCharsets.UTF_8), "translated").values().stream()
            .filter(o -> o instanceof io.archway.model.PluginFlow)
            .map(o -> (io.archway.model.PluginFlow) o)
            .findFirst()
            .orElseThrow();
    var standalone =
        StandaloneFile.parse(
                java.nio.file.Files.readAllBytes(
                    java.nio.file.Path.of("../examples/pluginflow.yaml")),
                "example")
            .values()
            .stream()
            .filter(o -> o instanceof io.archway.model.PluginFlow)
            .map(o -> (io.archway.model.PluginFlow) o)
            .findFirst()
            .orElseThrow();
    assertThat(translated.rule()).isEqualTo(standalone.rule());
    assertThat(translated.conf()).isEqualTo(standalone.conf());
  }

  @Test
  void flowDrawsAPluginFlowAsDotAndMermaid() {
    assertThat(run("flow", "-f", "../examples/kubernetes/pluginflow-seed.yaml")).isZero();
    assertThat(out())
        .startsWith("digraph \"demo/gatekeeper\" {")
        .contains("start -> \"auth\";")
        .contains("\"auth\" [label=\"auth\\nkey-auth\"];")
        .contains("\"auth\" -> \"log\" [label=\"code == 200\"];")
        .contains("\"auth\" -> \"throttle\" [label=\"code == 401\"];");
    out.reset();
    assertThat(
            run(
                "flow",
                "-f",
                "../examples/kubernetes",
                "--format",
                "mermaid",
                "--name",
                "checkout"))
        .isZero();
    assertThat(out())
        .contains("%% PluginFlow demo/checkout")
        .contains("flowchart LR")
        .contains("n0[\"limit<br/>limit-count\"]")
        .contains("n0 -- \"code == 429\" --> n1")
        .contains("n0 -. default .-> n2")
        .doesNotContain("gatekeeper");
    assertThat(run("flow", "-f", FIXTURES + "pf-cycle")).isEqualTo(1);
    assertThat(err()).contains("spec.edges: loop a -> b -> a");
    assertThat(run("flow", "-f", FIXTURES + "ar-basic")).isEqualTo(2);
    assertThat(err()).contains("no PluginFlow in the files");
    assertThat(run("flow", "-f", FIXTURES + "pf-graph", "--format", "svg")).isEqualTo(2);
  }

  @Test
  void translateLeavesOutInvalidResourcesAndSaysSo() throws Exception {
    assertThat(run("translate", "-f", FIXTURES + "ar-missing-service", "-f", FIXTURES + "ar-basic"))
        .isEqualTo(1);
    assertThat(err())
        .contains(
            "spec.http[0].backends[0].serviceName: Service default/nowhere not found (left out)");
    var items = StandaloneFile.parse(out().getBytes(StandardCharsets.UTF_8), "translated");
    assertThat(items).hasSize(1);
  }

  @Test
  void usageErrorsExitWithTwoAndHelpWithZero() {
    assertThat(run("validate")).isEqualTo(2);
    assertThat(err()).contains("-f FILE|DIR is required");
    assertThat(run("validate", "-f", "no/such/dir")).isEqualTo(2);
    assertThat(run("run", "--metrics-port", "x")).isEqualTo(2);
    assertThat(err()).contains("--metrics-port: \"x\" (expected: an integer 0..65535)");
    assertThat(run("run", "--dataplane-selector", "app=dp,broken")).isEqualTo(2);
    assertThat(err())
        .contains("--dataplane-selector: \"broken\" (expected: KEY=VALUE[,KEY=VALUE...])");
    assertThat(run("bogus")).isEqualTo(2);
    assertThat(run("translate", "--wat")).isEqualTo(2);
    for (var cmd : new String[] {"run", "translate", "validate"}) {
      out.reset();
      assertThat(run(cmd, "--help")).isZero();
      assertThat(out()).startsWith("Usage: archway-operator " + cmd);
    }
    out.reset();
    assertThat(run("--help")).isZero();
    assertThat(out()).contains("Commands:");
  }

  @Test
  void helpListsEveryCommandAndEachCommandEveryOption() {
    assertThat(run("--help")).isZero();
    assertThat(out())
        .startsWith("Usage: archway-operator")
        .contains("  run ", "  seed ", "  translate ", "  validate ", "  flow ")
        .contains("-V, --version");
    var commands = Main.commandLine(System.out, System.err).getSubcommands();
    assertThat(commands.keySet())
        .containsExactlyInAnyOrder("run", "seed", "translate", "validate", "flow");
    for (var command : commands.entrySet()) {
      out.reset();
      assertThat(run(command.getKey(), "--help")).isZero();
      for (var option : command.getValue().getCommandSpec().options()) {
        for (var name : option.names()) {
          assertThat(out()).as(command.getKey()).contains(name);
        }
      }
    }
    out.reset();
    assertThat(run("run", "--help")).isZero();
    assertThat(out())
        .contains("--etcd URL[,URL...]")
        .contains("--leader-election")
        .contains("(default: 9092; 0: off)");
  }

  @Test
  void withoutACommandTheCommandsAreListedAndTheStatusIsTwo() {
    assertThat(run()).isEqualTo(2);
    assertThat(out()).contains("Commands:");
  }

  @Test
  void anUnknownOptionOrCommandIsAUsageErrorWithSuggestions() {
    assertThat(run("validate", "--filname", "x.yaml")).isEqualTo(2);
    assertThat(err())
        .contains("archway-operator: Unknown option")
        .contains("'--filname'")
        .containsPattern("(Did you mean|Possible solutions).*--filename")
        .contains("Try archway-operator validate --help.");
    err.reset();
    assertThat(run("valdate", "-f", "x.yaml")).isEqualTo(2);
    assertThat(err()).contains("Did you mean: archway-operator validate");
    err.reset();
    assertThat(run("run", "--etcd")).isEqualTo(2);
    assertThat(err()).contains("--etcd").contains("Try archway-operator run --help.");
  }

  @Test
  void versionSaysTheProductVersionAndCommit() {
    var info = io.archway.model.BuildInfo.current();
    var line = "archway-operator " + info.version() + " (commit " + info.commit() + ")";
    assertThat(run("--version")).isZero();
    assertThat(out().strip()).isEqualTo(line);
    assertThat(info.version()).doesNotContain("${").isNotEqualTo("unknown");
    out.reset();
    assertThat(run("validate", "-V")).isZero();
    assertThat(out().strip()).isEqualTo(line);
  }

  @Test
  void validateNamesEveryKindItDoesNotRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    var file = dir.resolve("aic.yaml");
    java.nio.file.Files.writeString(
        file,
        """
        apiVersion: apisix.apache.org/v2beta3
        kind: ApisixPluginConfig
        metadata: {name: cors}
        spec:
          plugins:
          - {name: cors, enable: true}
        ---
        apiVersion: apisix.apache.org/v1alpha1
        kind: GatewayProxy
        metadata: {name: proxy}
        spec: {provider: {type: ControlPlane}}
        ---
        apiVersion: apisix.apache.org/v2beta3
        kind: ApisixRoute
        metadata: {name: old}
        spec: {http: []}
        ---
        apiVersion: archway.io/v1alpha1
        kind: NoSuchKind
        metadata: {name: x}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        """);
    assertThat(run("validate", "-f", file.toString())).as(out()).isEqualTo(1);
    assertThat(out())
        .contains(
            "aic.yaml:1: ApisixPluginConfig (apisix.apache.org/v2beta3): version not supported by"
                + " Archway (expected: apiVersion apisix.apache.org/v2)")
        // An AIC 2.x kind Archway reads: checked, what does not apply said in a warning.
        .contains(
            "aic.yaml:2: GatewayProxy default/proxy: warning: spec.provider: not used by Archway")
        .contains(
            "aic.yaml:3: ApisixRoute (apisix.apache.org/v2beta3): version not supported by Archway"
                + " (expected: apiVersion apisix.apache.org/v2)")
        .contains("aic.yaml:4: NoSuchKind (archway.io/v1alpha1): unknown kind")
        .contains(
            "aic.yaml:5: Deployment (apps/v1) app: skipped (not a resource Archway translates)")
        .contains("1 resource(s) checked, 3 with errors");
  }

  @Test
  void validateChecksEveryApisixIngressControllerV1alpha1Kind(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    var file = dir.resolve("aic2.yaml");
    java.nio.file.Files.writeString(
        file,
        """
        apiVersion: apisix.apache.org/v1alpha1
        kind: PluginConfig
        metadata: {name: cors}
        spec:
          plugins:
          - {name: cors, config: {allow_origins: "*"}}
        ---
        apiVersion: apisix.apache.org/v1alpha1
        kind: Consumer
        metadata: {name: jack}
        spec:
          credentials:
          - {type: key-auth, name: k1, config: {key: jack-key}}
        ---
        apiVersion: apisix.apache.org/v1alpha1
        kind: GatewayProxy
        metadata: {name: proxy}
        spec:
          plugins:
          - {name: prometheus, enabled: true}
        ---
        apiVersion: networking.k8s.io/v1
        kind: IngressClass
        metadata: {name: archway}
        spec:
          controller: archway.io/ingress-controller
          parameters: {apiGroup: apisix.apache.org, kind: GatewayProxy, name: proxy,
                       namespace: default, scope: Namespace}
        ---
        apiVersion: apisix.apache.org/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: web}
        spec:
          targetRefs: [{name: web, kind: Service, group: ""}]
          retries: 2
        ---
        apiVersion: apisix.apache.org/v1alpha1
        kind: HTTPRoutePolicy
        metadata: {name: web}
        spec:
          targetRefs: [{name: web, kind: Ingress, group: networking.k8s.io}]
          priority: 5
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web}
        spec:
          ingressClassName: archway
          rules:
          - http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {ports: [{port: 80}]}
        ---
        apiVersion: apisix.apache.org/v1alpha1
        kind: L4RoutePolicy
        metadata: {name: tcp}
        spec:
          targetRefs: [{name: db, kind: TCPRoute, group: gateway.networking.k8s.io}]
          plugins: [{name: proxy-rewrite, config: {uri: /x}}]
        """);
    assertThat(run("validate", "-f", file.toString())).as(out()).isEqualTo(1);
    assertThat(out())
        .doesNotContain("does not support yet")
        .doesNotContain("skipped")
        .doesNotContain("IngressClass")
        .contains(
            "aic2.yaml:9: L4RoutePolicy default/tcp: spec.plugins[0].name: \"proxy-rewrite\" is not"
                + " a stream plugin")
        .contains("8 resource(s) checked, 1 with errors");

    // What they translate to, as the dataplane reads it (the L4RoutePolicy is left out).
    out.reset();
    assertThat(run("translate", "-f", file.toString())).isEqualTo(1);
    var items = StandaloneFile.parse(out().getBytes(StandardCharsets.UTF_8), "translated");
    assertThat(items.keySet().stream().map(Keys.Key::toString))
        .contains(
            "plugin_configs/pc_default_cors",
            "consumers/default_jack",
            "consumers/default_jack/credentials/k1",
            "global_rules/gp_default_proxy");
    assertThat(out()).contains("priority: 5").contains("retries: 2");
  }

  @Test
  void validateChecksThePluginConfigGlobalRuleAndClusterConfigKinds(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    var file = dir.resolve("aic-v2.yaml");
    java.nio.file.Files.writeString(
        file,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixPluginConfig
        metadata: {name: cors, namespace: shared}
        spec:
          plugins:
          - {name: cors, enable: true, config: {allow_origins: "*"}}
        ---
        apiVersion: apisix.apache.org/v2
        kind: ApisixGlobalRule
        metadata: {name: ids}
        spec:
          plugins:
          - {name: request-id, config: {header_nam: X-Id}}
        ---
        apiVersion: apisix.apache.org/v2
        kind: ApisixClusterConfig
        metadata: {name: default}
        spec:
          monitoring:
            prometheus: {enable: true}
            skywalking: {enable: true, sampleRatio: 1.5}
        ---
        apiVersion: apisix.apache.org/v2
        kind: ApisixRoute
        metadata: {name: web}
        spec:
          http:
          - name: rule
            match: {paths: [/*]}
            plugin_config_name: cors
            plugin_config_namespace: shared
            backends:
            - {serviceName: web, servicePort: 80}
        """);
    assertThat(run("validate", "-f", file.toString())).as(out()).isEqualTo(1);
    assertThat(out())
        .contains(
            "aic-v2.yaml:2: ApisixGlobalRule default/ids: spec.plugins[0].config.header_nam:"
                + " unknown field")
        .contains(
            "aic-v2.yaml:3: ApisixClusterConfig default: spec.monitoring.skywalking.sampleRatio:"
                + " 1.5 (expected: 0..1)")
        .doesNotContain("ApisixPluginConfig shared/cors:")
        .doesNotContain("ApisixRoute default/web: spec")
        .contains("4 resource(s) checked, 2 with errors");

    out.reset();
    assertThat(run("translate", "-f", file.toString())).isEqualTo(1);
    var yaml = out();
    assertThat(yaml)
        .contains("plugin_configs:")
        .contains("id: \"apc_shared_cors\"")
        .contains("plugin_config_id: \"apc_shared_cors\"")
        .doesNotContain("global_rules:");
  }

  @Test
  void validateRefusesIngressAnnotationsArchwayDoesNotImplement() {
    assertThat(run("validate", "-f", FIXTURES + "ing-annotation-unsupported")).isEqualTo(1);
    assertThat(out())
        .contains(
            "Ingress default/csrf: metadata.annotations.k8s.apisix.apache.org/no-such-annotation:"
                + " annotation not supported by Archway")
        .contains("metadata.annotations.k8s.apisix.apache.org/no-such-key")
        .doesNotContain("ignored")
        .contains("1 resource(s) checked, 1 with errors");
  }

  @Test
  void validateAcceptsAClusterIpServiceBeforeItsIpIsAssigned() {
    assertThat(run("validate", "-f", FIXTURES + "ar-granularity-unassigned")).as(out()).isZero();
    out.reset();
    assertThat(run("validate", "-f", FIXTURES + "ar-granularity-headless")).isEqualTo(1);
    assertThat(out()).contains("has no cluster IP (headless)");
  }
}
