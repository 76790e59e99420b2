package io.archway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.archway.crds.apisix.ApisixRoute;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.ContainerFetchException;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The product on a real Kubernetes: k3s in a container (Testcontainers), the Helm chart from {@code
 * manifests/} installed with images made from this build's jars, an ApisixRoute applied and a
 * request served through the dataplane to a real upstream in the cluster.
 *
 * <p>Needs a Docker engine that can pull {@code rancher/k3s}, the JRE base image, the chart's etcd
 * and the upstream's image. Without an engine the test is aborted (reported as skipped) with the
 * reason, decided in milliseconds (a socket file looked for) so it costs the build nothing; without
 * the k3s image it is aborted too. The other e2e tests, which need no Docker, stand in for it on
 * such machines (fabric8's mock API server in place of the cluster).
 */
class K3sE2E {

  static final DockerImageName K3S = DockerImageName.parse("rancher/k3s:v1.31.4-k3s1");
  static final String JRE = "eclipse-temurin:21-jre";
  static final String UPSTREAM = "traefik/whoami:v1.10.3";
  static final Path CHART = Path.of("..", "manifests", "helm", "archway");
  static final String NAMESPACE = "archway-system";
  static final Duration WAIT = Duration.ofMinutes(5);

  static K3sContainer k3s;
  static KubernetesClient kube;
  // Why the cluster could not be had; each test is aborted with it (an abort in @BeforeAll would
  // show as no test at all in Maven's counts, not as a skipped one).
  static String skipped;

  @BeforeAll
  static void cluster(@TempDir Path dir) throws Exception {
    var noDocker = Docker.missing();
    if (noDocker != null) {
      skip(noDocker);
      return;
    }
    k3s = new K3sContainer(K3S);
    try {
      k3s.start();
    } catch (ContainerFetchException e) {
      skip("the image " + K3S + " could not be pulled: " + e);
      return;
    }
    var operator = image("operator", Path.of("..", "operator", "target", "archway-operator.jar"));
    var dataplane =
        image("dataplane", Path.of("..", "dataplane", "target", "archway-dataplane.jar"));
    load(dir, operator);
    load(dir, dataplane);
    var kubeconfig = k3s.getKubeConfigYaml();
    kube = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfig)).build();

    // One of each, ClusterIP: what a laptop cluster holds; the scenario does not need more.
    new Helm(CHART)
        .install()
        .withName("archway")
        .withNamespace(NAMESPACE)
        .createNamespace()
        .withKubeConfigContents(kubeconfig)
        .set("image.pullPolicy", "Never")
        .set("operator.image.repository", repository(operator))
        .set("operator.image.tag", "e2e")
        .set("operator.replicas", 1)
        .set("dataplane.image.repository", repository(dataplane))
        .set("dataplane.image.tag", "e2e")
        .set("dataplane.replicas", 1)
        .set("dataplane.service.type", "ClusterIP")
        .set("etcd.bundled.replicas", 1)
        .set("etcd.bundled.persistence.size", "1Gi")
        .waitReady()
        .withTimeout((int) WAIT.toSeconds())
        .call();
  }

  private static void skip(String why) {
    skipped = "k3s e2e skipped: " + why;
    System.err.println(skipped);
  }

  @BeforeEach
  void needsTheCluster() {
    Assumptions.assumeTrue(skipped == null, skipped);
  }

  @AfterAll
  static void stop() {
    if (kube != null) {
      kube.close();
    }
    if (k3s != null) {
      k3s.stop();
    }
  }

  /** An image of {@code jar} on the JRE base, named {@code archway-e2e/<name>:e2e}. */
  private static String image(String name, Path jar) {
    assertThat(jar).as("built by the reactor before e2e").exists();
    return new ImageFromDockerfile("archway-e2e/" + name + ":e2e", false)
        .withFileFromPath("app.jar", jar)
        .withDockerfileFromBuilder(
            b ->
                b.from(JRE)
                    .copy("app.jar", "/app.jar")
                    .user("65532:65532")
                    .entryPoint("java", "-jar", "/app.jar")
                    .build())
        .get();
  }

  private static String repository(String image) {
    return image.substring(0, image.lastIndexOf(':'));
  }

  /** Copies an image from the Docker engine into k3s's containerd (no registry in between). */
  private static void load(Path dir, String image) throws Exception {
    var tar = dir.resolve(repository(image).replace('/', '_') + ".tar");
    var tag = image.substring(image.lastIndexOf(':') + 1);
    try (var in =
        DockerClientFactory.instance()
            .client()
            .saveImageCmd(repository(image))
            .withTag(tag)
            .exec()) {
      Files.copy(in, tar);
    }
    k3s.copyFileToContainer(MountableFile.forHostPath(tar), "/tmp/image.tar");
    var result = k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/image.tar");
    assertThat(result.getExitCode()).as("ctr import: %s", result.getStderr()).isZero();
  }

  private static void apply(String yaml) {
    kube.resource((HasMetadata) Serialization.unmarshal(yaml)).serverSideApply();
  }

  private static void route(String paths, String servicePort) {
    kube.resource(
            Serialization.unmarshal(
                """
                apiVersion: apisix.apache.org/v2
                kind: ApisixRoute
                metadata: {name: whoami, namespace: default}
                spec:
                  http:
                  - name: main
                    match: {paths: PATHS}
                    backends: [{serviceName: whoami, servicePort: PORT}]
                """
                    .replace("PATHS", paths)
                    .replace("PORT", servicePort),
                ApisixRoute.class))
        .serverSideApply();
  }

  /** The route's condition of {@code type} as {@code "<status>: <message>"}, or {@code ""}. */
  private static String condition(String type) {
    var r = kube.resources(ApisixRoute.class).inNamespace("default").withName("whoami").get();
    return r == null || r.getStatus() == null || r.getStatus().conditions == null
        ? ""
        : r.getStatus().conditions.stream()
            .filter(c -> c.getType().equals(type))
            .map(c -> c.getStatus() + ": " + c.getMessage())
            .findFirst()
            .orElse("");
  }

  @Test
  void anApisixRouteIsServedChangedKeptWhenRefusedAndRemoved() throws Exception {
    apply(
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: whoami, namespace: default}
        spec:
          selector: {matchLabels: {app: whoami}}
          template:
            metadata: {labels: {app: whoami}}
            spec:
              containers: [{name: whoami, image: IMAGE, ports: [{name: http, containerPort: 80}]}]
        """
            .replace("IMAGE", UPSTREAM));
    apply(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: whoami, namespace: default}
        spec:
          selector: {app: whoami}
          ports: [{name: http, port: 80, targetPort: http}]
        """);

    // Through a port-forward to a dataplane pod, as a client in the cluster would reach it.
    var selector =
        kube.apps()
            .deployments()
            .inNamespace(NAMESPACE)
            .withName("archway-dataplane")
            .get()
            .getSpec()
            .getSelector()
            .getMatchLabels();
    List<Pod> pods = kube.pods().inNamespace(NAMESPACE).withLabels(selector).list().getItems();
    assertThat(pods).isNotEmpty();
    var http = HttpClient.newHttpClient();
    try (var forward =
        kube.pods()
            .inNamespace(NAMESPACE)
            .withName(pods.get(0).getMetadata().getName())
            .portForward(9080)) {
      var base = URI.create("http://127.0.0.1:" + forward.getLocalPort());
      Callable<HttpResponse<String>> hello = () -> get(http, base.resolve("/hello/there"));
      Callable<HttpResponse<String>> bye = () -> get(http, base.resolve("/bye"));

      route("[/hello*]", "http");
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                var res = hello.call();
                assertThat(res.statusCode()).isEqualTo(200);
                // whoami answers with the request it got: the path went through unchanged.
                assertThat(res.body()).contains("GET /hello/there");
              });
      assertThat(condition("Programmed")).startsWith("True: ");
      assertThat(get(http, base.resolve("/nowhere")).statusCode()).isEqualTo(404);

      route("[/bye*]", "http");
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(bye.call().statusCode()).isEqualTo(200));
      assertThat(hello.call().statusCode()).isEqualTo(404);

      // A bad change is refused with a status naming the field; what was served stays served.
      route("[/other*]", "nope");
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(condition("Accepted"))
                      .startsWith(
                          "False: spec.http[0].backends[0].servicePort: unknown port name"
                              + " \"nope\""));
      assertThat(bye.call().statusCode()).isEqualTo(200);
      assertThat(get(http, base.resolve("/other")).statusCode()).isEqualTo(404);

      kube.resources(ApisixRoute.class).inNamespace("default").withName("whoami").delete();
      await()
          .atMost(WAIT)
          .ignoreExceptions()
          .untilAsserted(() -> assertThat(bye.call().statusCode()).isEqualTo(404));
    }
  }

  private static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
