package io.archway.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart, through native Helm (helm-java): lint, and what it renders with the default
 * values and with each option, parsed by fabric8 and held to the rules every install must keep:
 * resources, probes and a locked-down security context on every container, RBAC that is exactly
 * what the binaries use, the generated CRDs, and values the schema refuses with a clear message.
 * {@code manifests/install.yaml} is the default render; {@code -Darchway.install.update=true}
 * rewrites it.
 */
class HelmChartTest {

  static final Path CHART = Path.of("helm", "archway");
  static final Path INSTALL = Path.of("install.yaml");

  static String render(Map<String, Object> values) {
    var t =
        new Helm(CHART)
            .template()
            .withName("archway")
            .withNamespace("archway-system")
            .withKubeVersion("1.30.0");
    values.forEach(t::set);
    return t.call();
  }

  static List<HasMetadata> objects(String yaml) {
    var out = new ArrayList<HasMetadata>();
    for (var doc : yaml.split("(?m)^---\\s*$")) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
        continue;
      }
      Object parsed = Serialization.unmarshal(doc);
      if (parsed instanceof HasMetadata m) {
        out.add(m);
      } else if (parsed instanceof List<?> list) {
        list.forEach(o -> out.add((HasMetadata) o));
      }
    }
    return out;
  }

  static <T> List<T> of(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  @Test
  void lintIsClean() {
    var result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
  }

  @Test
  void theDefaultsInstallAProductionShapedGateway() {
    var objects = objects(render(Map.of()));
    var kinds = new TreeMap<String, Integer>();
    objects.forEach(o -> kinds.merge(o.getKind(), 1, Integer::sum));
    assertThat(kinds)
        .containsEntry("Deployment", 2)
        .containsEntry("StatefulSet", 1)
        .containsEntry("PodDisruptionBudget", 2)
        .containsEntry("IngressClass", 1)
        .doesNotContainKeys("HorizontalPodAutoscaler", "ServiceMonitor");
    assertThat(deployment(objects, "archway-operator").getSpec().getReplicas()).isEqualTo(2);
    assertThat(container(objects, "archway-operator").getArgs())
        .contains("--leader-election", "--etcd", "http://archway-etcd:2379");
    assertThat(container(objects, "archway-dataplane").getArgs())
        .contains("--https-port", "9443", "--status-port", "9091");
    var service =
        objects.stream()
            .filter(o -> o.getMetadata().getName().equals("archway-dataplane"))
            .filter(io.fabric8.kubernetes.api.model.Service.class::isInstance)
            .map(io.fabric8.kubernetes.api.model.Service.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(service.getSpec().getType()).isEqualTo("LoadBalancer");
    assertThat(service.getSpec().getPorts())
        .extracting(p -> p.getPort() + ">" + p.getTargetPort().getStrVal())
        .containsExactly("80>http", "443>https");
    var etcd = of(objects, StatefulSet.class).get(0);
    assertThat(etcd.getSpec().getReplicas()).isEqualTo(3);
    assertThat(etcd.getSpec().getVolumeClaimTemplates()).hasSize(1);
    assertThat(etcd.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand())
        .contains("--auto-compaction-mode=periodic");
    everyContainerIsLockedDown(objects);
  }

  /**
   * A rolling update drops no request (docs/chaos.md, scenario 5): the preStop sleep keeps the
   * dataplane serving while its endpoint's removal reaches every kube-proxy, then SIGTERM drains
   * within {@code --shutdown-timeout}; the grace period covers both and the JVM's exit, so the
   * kubelet's SIGKILL never cuts a drain short.
   */
  @Test
  void theDataplaneStopsGracefullyWithinItsGracePeriod() {
    for (var values :
        List.<Map<String, Object>>of(
            Map.of(), Map.of("dataplane.preStopSeconds", 10, "dataplane.drainSeconds", 40))) {
      var objects = objects(render(values));
      int preStop = (Integer) values.getOrDefault("dataplane.preStopSeconds", 5);
      int drain = (Integer) values.getOrDefault("dataplane.drainSeconds", 20);
      var pod = deployment(objects, "archway-dataplane").getSpec().getTemplate().getSpec();
      var c = container(objects, "archway-dataplane");
      assertThat(c.getLifecycle().getPreStop().getExec().getCommand())
          .containsExactly("sleep", "" + preStop);
      var args = c.getArgs();
      assertThat(args.get(args.indexOf("--shutdown-timeout") + 1)).isEqualTo("" + drain);
      assertThat(pod.getTerminationGracePeriodSeconds())
          .isEqualTo(preStop + drain + 5L)
          .isGreaterThan(preStop + (long) drain);
    }
    assertThatThrownBy(() -> render(Map.of("dataplane.drainSeconds", 0)))
        .hasMessageContaining("drainSeconds");
  }

  /**
   * The overload limits reach the dataplane as its options: the defaults (the dataplane's own),
   * values a user sets, and values the schema refuses.
   */
  @Test
  void theOverloadLimitsAreTheDataplanesOptions() {
    for (var values :
        List.<Map<String, Object>>of(
            Map.of(),
            Map.of(
                "dataplane.overload.maxConnections", 200000,
                "dataplane.overload.memoryHighWater", "off",
                "dataplane.overload.memoryLowWater", "0.7"))) {
      var args = container(objects(render(values)), "archway-dataplane").getArgs();
      assertThat(args.get(args.indexOf("--max-connections") + 1))
          .isEqualTo("" + values.getOrDefault("dataplane.overload.maxConnections", 10000));
      assertThat(args.get(args.indexOf("--memory-high-water") + 1))
          .isEqualTo(values.getOrDefault("dataplane.overload.memoryHighWater", "90%"));
      assertThat(args.get(args.indexOf("--memory-low-water") + 1))
          .isEqualTo(values.getOrDefault("dataplane.overload.memoryLowWater", "80%"));
    }
    assertThatThrownBy(() -> render(Map.of("dataplane.overload.maxConnections", -1)))
        .hasMessageContaining("maxConnections");
    assertThatThrownBy(() -> render(Map.of("dataplane.overload.memoryHighWater", "150%")))
        .hasMessageContaining("memoryHighWater");
    assertThatThrownBy(() -> render(Map.of("dataplane.overload.memoryLowWater", "off")))
        .hasMessageContaining("memoryLowWater");
  }

  /** The one container of Deployment {@code name}. */
  static Container container(List<HasMetadata> objects, String name) {
    return deployment(objects, name).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  static Deployment deployment(List<HasMetadata> objects, String name) {
    return of(objects, Deployment.class).stream()
        .filter(d -> d.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** Resources, probes, non-root, read-only root filesystem, no capabilities: every container. */
  static void everyContainerIsLockedDown(List<HasMetadata> objects) {
    var pods = new ArrayList<PodSpec>();
    of(objects, Deployment.class).forEach(d -> pods.add(d.getSpec().getTemplate().getSpec()));
    of(objects, StatefulSet.class).forEach(s -> pods.add(s.getSpec().getTemplate().getSpec()));
    assertThat(pods).isNotEmpty();
    for (var pod : pods) {
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
      for (Container c : pod.getContainers()) {
        var at = c.getName();
        assertThat(c.getResources().getRequests()).as(at).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).as(at).containsKey("memory");
        assertThat(c.getReadinessProbe()).as(at).isNotNull();
        assertThat(c.getLivenessProbe()).as(at).isNotNull();
        var sc = c.getSecurityContext();
        assertThat(sc.getRunAsNonRoot()).as(at).isTrue();
        assertThat(sc.getReadOnlyRootFilesystem()).as(at).isTrue();
        assertThat(sc.getAllowPrivilegeEscalation()).as(at).isFalse();
        assertThat(sc.getCapabilities().getDrop()).as(at).containsExactly("ALL");
      }
    }
  }

  @Test
  void externalEtcdWithTlsAndAuthInsteadOfTheBundledOne() {
    var objects =
        objects(
            render(
                Map.of(
                    "etcd.mode", "external",
                    "etcd.external.endpoints[0]", "https://etcd-a:2379",
                    "etcd.external.endpoints[1]", "https://etcd-b:2379",
                    "etcd.external.tls.secretName", "etcd-client",
                    "etcd.external.auth.secretName", "etcd-auth")));
    assertThat(of(objects, StatefulSet.class)).isEmpty();
    for (var name : List.of("archway-operator", "archway-dataplane")) {
      var pod = deployment(objects, name).getSpec().getTemplate().getSpec();
      var c = pod.getContainers().get(0);
      assertThat(c.getArgs())
          .as(name)
          .contains("https://etcd-a:2379,https://etcd-b:2379", "--etcd-ca", "--etcd-cert");
      assertThat(c.getEnv())
          .extracting(e -> e.getName())
          .contains("ARCHWAY_ETCD_USER", "ARCHWAY_ETCD_PASSWORD");
      assertThat(pod.getVolumes())
          .extracting(v -> v.getSecret() == null ? null : v.getSecret().getSecretName())
          .contains("etcd-client");
    }
    everyContainerIsLockedDown(objects);
  }

  @Test
  void theSeedOfAdminApiObjectsIsOnWithARegistryUnlessTurnedOff() {
    var on = render(Map.of("operator.registries.zookeeperConnect", "zk:2181"));
    var args = deployment(objects(on), "archway-operator").getSpec().getTemplate().getSpec();
    assertThat(args.getContainers().get(0).getArgs())
        .contains("--zookeeper-connect")
        .doesNotContain("--no-seed");
    var off =
        render(
            Map.of(
                "operator.registries.zookeeperConnect", "zk:2181",
                "operator.registries.seed", "false"));
    args = deployment(objects(off), "archway-operator").getSpec().getTemplate().getSpec();
    assertThat(args.getContainers().get(0).getArgs()).contains("--no-seed");
  }

  /** examples/istio/values.yaml: the dataplane takes its config from istiod, not etcd. */
  @Test
  void xdsFromIstiodInsteadOfEtcd() {
    var objects =
        objects(
            new Helm(CHART)
                .template()
                .withName("archway")
                .withNamespace("istio-system")
                .withKubeVersion("1.30.0")
                .withValuesFile(Path.of("..", "examples", "istio", "values.yaml"))
                .call());
    var pod = deployment(objects, "archway-dataplane").getSpec().getTemplate();
    var c = pod.getSpec().getContainers().get(0);
    assertThat(c.getArgs())
        .containsSubsequence("--xds", "istiod.istio-system.svc:15010")
        .containsSubsequence("--xds-protocol", "sotw")
        .containsSubsequence("--xds-initial-fetch-timeout", "0")
        .doesNotContain("--etcd");
    assertThat(c.getEnv())
        .extracting(e -> e.getName())
        .contains("POD_NAME", "POD_NAMESPACE", "INSTANCE_IP", "ISTIO_METAJSON_LABELS");
    assertThat(c.getEnv())
        .filteredOn(e -> e.getName().equals("ISTIO_METAJSON_LABELS"))
        .extracting(e -> e.getValue())
        .containsExactly("{\"istio\":\"archway-ingressgateway\"}");
    assertThat(pod.getMetadata().getLabels()).containsEntry("istio", "archway-ingressgateway");
    // Istio's agent: its SDS socket, in the volume the injected agent shares.
    assertThat(c.getArgs())
        .containsSubsequence("--xds-sds", "unix:///var/run/secrets/workload-spiffe-uds/socket");
    assertThat(c.getVolumeMounts())
        .anySatisfy(
            m -> {
              assertThat(m.getName()).isEqualTo("workload-socket");
              assertThat(m.getMountPath()).isEqualTo("/var/run/secrets/workload-spiffe-uds");
            });
    assertThat(pod.getSpec().getVolumes())
        .anySatisfy(
            v -> {
              assertThat(v.getName()).isEqualTo("workload-socket");
              assertThat(v.getEmptyDir()).isNotNull();
            });
    assertThat(pod.getMetadata().getLabels()).containsEntry("sidecar.istio.io/inject", "true");
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("inject.istio.io/templates", "grpc-agent");
    everyContainerIsLockedDown(objects);
  }

  @Test
  void autoscalingAndServiceMonitorWhenAskedFor() {
    var objects =
        objects(
            render(Map.of("dataplane.autoscaling.enabled", true, "serviceMonitor.enabled", true)));
    assertThat(objects)
        .anySatisfy(o -> assertThat(o.getKind()).isEqualTo("HorizontalPodAutoscaler"));
    assertThat(deployment(objects, "archway-dataplane").getSpec().getReplicas()).isNull();
    var monitor =
        objects.stream()
            .filter(o -> o.getKind().equals("ServiceMonitor"))
            .map(GenericKubernetesResource.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(monitor.getAdditionalProperties().toString()).contains("/metrics");
  }

  @Test
  void rbacIsExactlyWhatTheBinariesUse() {
    var objects = objects(render(Map.of()));
    var roles = of(objects, ClusterRole.class);
    assertThat(rules(role(roles, "archway-operator").getRules()))
        .containsExactlyInAnyOrderElementsOf(OPERATOR);
    assertThat(rules(role(roles, "archway-dataplane").getRules()))
        .containsExactlyInAnyOrderElementsOf(DATAPLANE);
    assertThat(rules(of(objects, Role.class).get(0).getRules()))
        .containsExactly("coordination.k8s.io/leases: create,get,update");
  }

  /** The Gateway API CRDs are the user's to install (the upstream bundle): the chart has none. */
  @Test
  void noGatewayApiCrds() throws java.io.IOException {
    assertThat(render(Map.of())).doesNotContain("gateway.networking.k8s.io/bundle-version");
    assertThat(objects(render(Map.of())))
        .noneSatisfy(
            o ->
                assertThat(o.getKind() + " " + o.getMetadata().getName())
                    .matches("CustomResourceDefinition .*gateway\\.networking\\.k8s\\.io"));
    try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("helm"))) {
      assertThat(files.map(Object::toString).toList())
          .noneMatch(f -> f.contains("gateway.networking.k8s.io"));
    }
  }

  /**
   * What the operator calls: its informers (get, list, watch) and writes (status, finalizers on the
   * resources it reconciles) and events. Keep in step with the code.
   */
  static final List<String> OPERATOR =
      List.of(
          "apisix.apache.org/apisixconsumers: get,list,patch,update,watch",
          "apisix.apache.org/apisixroutes: get,list,patch,update,watch",
          "apisix.apache.org/apisixtlses: get,list,patch,update,watch",
          "apisix.apache.org/apisixupstreams: get,list,patch,update,watch",
          "apisix.apache.org/apisixconsumers/status: get,patch,update",
          "apisix.apache.org/apisixroutes/status: get,patch,update",
          "apisix.apache.org/apisixtlses/status: get,patch,update",
          "apisix.apache.org/apisixupstreams/status: get,patch,update",
          "apisix.apache.org/apisixpluginconfigs: get,list,patch,update,watch",
          "apisix.apache.org/apisixglobalrules: get,list,patch,update,watch",
          "apisix.apache.org/apisixclusterconfigs: get,list,patch,update,watch",
          "apisix.apache.org/apisixpluginconfigs/status: get,patch,update",
          "apisix.apache.org/apisixglobalrules/status: get,patch,update",
          "apisix.apache.org/apisixclusterconfigs/status: get,patch,update",
          "apisix.apache.org/pluginconfigs: get,list,patch,update,watch",
          "apisix.apache.org/consumers: get,list,patch,update,watch",
          "apisix.apache.org/gatewayproxies: get,list,patch,update,watch",
          "apisix.apache.org/backendtrafficpolicies: get,list,patch,update,watch",
          "apisix.apache.org/httproutepolicies: get,list,patch,update,watch",
          "apisix.apache.org/l4routepolicies: get,list,patch,update,watch",
          "apisix.apache.org/pluginconfigs/status: get,patch,update",
          "apisix.apache.org/consumers/status: get,patch,update",
          "apisix.apache.org/gatewayproxies/status: get,patch,update",
          "apisix.apache.org/backendtrafficpolicies/status: get,patch,update",
          "apisix.apache.org/httproutepolicies/status: get,patch,update",
          "apisix.apache.org/l4routepolicies/status: get,patch,update",
          "archway.io/pluginflows: get,list,patch,update,watch",
          "archway.io/streamroutes: get,list,patch,update,watch",
          "archway.io/pluginflows/status: get,patch,update",
          "archway.io/streamroutes/status: get,patch,update",
          "archway.io/gatewayparameters: get,list,watch",
          "networking.k8s.io/ingresses: get,list,patch,update,watch",
          "networking.k8s.io/ingresses/status: get,patch,update",
          "networking.k8s.io/ingressclasses: get,list,watch",
          // Gateway API: which CRDs are installed (read at start-up), and the kinds themselves.
          "apiextensions.k8s.io/customresourcedefinitions: get,list",
          "gateway.networking.k8s.io/gatewayclasses: get,list,patch,update,watch",
          "gateway.networking.k8s.io/gateways: get,list,patch,update,watch",
          "gateway.networking.k8s.io/httproutes: get,list,patch,update,watch",
          "gateway.networking.k8s.io/grpcroutes: get,list,patch,update,watch",
          "gateway.networking.k8s.io/tlsroutes: get,list,patch,update,watch",
          "gateway.networking.k8s.io/tcproutes: get,list,patch,update,watch",
          "gateway.networking.k8s.io/udproutes: get,list,patch,update,watch",
          "gateway.networking.k8s.io/referencegrants: get,list,patch,update,watch",
          "gateway.networking.k8s.io/gatewayclasses/status: get,patch,update",
          "gateway.networking.k8s.io/gateways/status: get,patch,update",
          "gateway.networking.k8s.io/httproutes/status: get,patch,update",
          "gateway.networking.k8s.io/grpcroutes/status: get,patch,update",
          "gateway.networking.k8s.io/tlsroutes/status: get,patch,update",
          "gateway.networking.k8s.io/tcproutes/status: get,patch,update",
          "gateway.networking.k8s.io/udproutes/status: get,patch,update",
          "/pods: get,list,watch",
          "/secrets: get,list,watch",
          // Services: also the one Archway keeps per Gateway with GatewayParameters.
          "/services: create,delete,get,list,patch,update,watch",
          "/namespaces: get,list,watch",
          "discovery.k8s.io/endpointslices: get,list,watch",
          "/events: create,patch");

  /** What the dataplane's discovery reads: Services, their EndpointSlices, Pods for subsets. */
  static final List<String> DATAPLANE =
      List.of(
          "/pods: get,list,watch",
          "/services: get,list,watch",
          "discovery.k8s.io/endpointslices: get,list,watch");

  static ClusterRole role(List<ClusterRole> roles, String name) {
    return roles.stream()
        .filter(r -> r.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** Each rule as "group/resource: verbs", one line per resource. */
  static List<String> rules(List<PolicyRule> rules) {
    var out = new ArrayList<String>();
    for (var r : rules) {
      for (var group : r.getApiGroups()) {
        for (var resource : r.getResources()) {
          out.add(group + "/" + resource + ": " + String.join(",", new TreeSet<>(r.getVerbs())));
        }
      }
    }
    return out;
  }

  @Test
  void theChartsCrdsAreTheGeneratedOnes() throws Exception {
    var generated = Path.of("crds");
    try (Stream<Path> files = Files.list(generated)) {
      var names = files.map(p -> p.getFileName().toString()).sorted().toList();
      assertThat(names).hasSize(16);
      for (var name : names) {
        assertThat(Files.readString(CHART.resolve("crds").resolve(name)))
            .as("helm/archway/crds/%s (copy it from manifests/crds)", name)
            .isEqualTo(Files.readString(generated.resolve(name)));
      }
    }
    try (Stream<Path> files = Files.list(CHART.resolve("crds"))) {
      assertThat(files.count()).isEqualTo(16);
    }
  }

  @Test
  void theChartInstallsTheImagesTheBuildMakes() throws Exception {
    var pom = Files.readString(Path.of("..", "pom.xml"));
    var tag = pom.replaceAll("(?s).*<archway.image.tag>([^<]+)</archway.image.tag>.*", "$1");
    var chart = Files.readString(CHART.resolve("Chart.yaml"));
    assertThat(chart).contains("appVersion: \"" + tag + "\"");
    var objects = objects(render(Map.of()));
    assertThat(container(objects, "archway-dataplane").getImage())
        .isEqualTo("archway/dataplane:" + tag);
    assertThat(container(objects, "archway-operator").getImage())
        .isEqualTo("archway/operator:" + tag);
  }

  @Test
  void badValuesAreRefusedByTheSchema() {
    assertThatThrownBy(() -> render(Map.of("etcd.mode", "embedded")))
        .hasMessageContaining("etcd")
        .hasMessageContaining("mode");
    assertThatThrownBy(() -> render(Map.of("dataplane.replicas", 0)))
        .hasMessageContaining("replicas");
    assertThatThrownBy(() -> render(Map.of("etcd.mode", "external")))
        .hasMessageContaining("endpoints");
    assertThatThrownBy(() -> render(Map.of("dataplane.service.type", "Ingress")))
        .hasMessageContaining("type");
    assertThatThrownBy(() -> render(Map.of("dataplane.replica", 3)))
        .hasMessageContaining("replica");
  }

  @Test
  void installYamlIsTheDefaultRender() throws Exception {
    // helm template leaves the chart's crds/ out (helm install applies them first): here they
    // come first, as kubectl apply needs them.
    var crds = new StringBuilder();
    try (Stream<Path> files = Files.list(CHART.resolve("crds"))) {
      for (var f : files.sorted().toList()) {
        crds.append("---\n").append(Files.readString(f));
      }
    }
    var rendered =
        "# Archway with the chart's default values: kubectl apply -f manifests/install.yaml\n"
            + "# (the namespace first: kubectl create namespace archway-system).\n"
            + "# Generated from helm/archway; a test fails when the two drift apart.\n"
            + crds
            + render(Map.of());
    if (Boolean.getBoolean("archway.install.update")) {
      Files.writeString(INSTALL, rendered);
    }
    assertThat(Files.readString(INSTALL))
        .as("manifests/install.yaml (update with -Darchway.install.update=true)")
        .isEqualTo(rendered);
  }
}
