package io.archway.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.crds.apisix.ApisixPluginConfig;
import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.operator.testing.KubeMock;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The resources of the operator's chaos scenarios, and what they check on them: ApisixRoutes on
 * Services whose cluster IP is a loopback backend ({@code resolveGranularity: service}, so the
 * dataplane needs no Kubernetes access), ApisixUpstreams on some of those Services.
 */
final class OperatorResources {

  private OperatorResources() {}

  static final List<Class<? extends HasMetadata>> KINDS =
      List.of(ApisixRoute.class, ApisixUpstream.class);

  /** {@link #KINDS} and ApisixPluginConfig. */
  static final List<Class<? extends HasMetadata>> WITH_PLUGIN_CONFIGS =
      List.of(ApisixRoute.class, ApisixUpstream.class, ApisixPluginConfig.class);

  /** A Service {@code name} whose cluster IP and port are the backend's. */
  static void service(OperatorStack stack, String name, int port) {
    stack.apply(
        Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: "
            + name
            + ", namespace: default}\nspec: {clusterIP: 127.0.0.1, ports: [{name: http, port: "
            + port
            + "}]}\n");
  }

  /**
   * ApisixRoute {@code name}: one rule ({@code main}) on {@code path*} to {@code service}, with a
   * request header that says {@code version}.
   */
  static void route(OperatorStack stack, String name, String path, String service, int version) {
    route(stack, name, path, service, version, null);
  }

  /** As {@link #route(OperatorStack, String, String, String, int)}, with an ApisixPluginConfig. */
  static void route(
      OperatorStack stack,
      String name,
      String path,
      String service,
      int version,
      String pluginConfig) {
    stack.apply(
        ApisixRoute.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixRoute
        metadata: {name: NAME, namespace: default}
        spec:
          http:
          - name: main
            match: {paths: ["PATH*"]}
            backends: [{serviceName: SERVICE, servicePort: http, resolveGranularity: service}]
        PLUGIN_CONFIG    plugins:
            - name: proxy-rewrite
              enable: true
              config: {headers: {set: {X-Version: "VERSION"}}}
        """
            .replace("NAME", name)
            .replace("PATH", path)
            .replace("SERVICE", service)
            .replace("VERSION", "" + version)
            .replace(
                "PLUGIN_CONFIG",
                pluginConfig == null ? "" : "    plugin_config_name: " + pluginConfig + "\n"));
  }

  /**
   * ApisixPluginConfig {@code name}: a response header that says {@code version}; every other
   * version also has {@code cors}, so that a plugin is added and removed, not only changed.
   */
  static void pluginConfig(OperatorStack stack, String name, int version) {
    stack.apply(
        ApisixPluginConfig.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixPluginConfig
        metadata: {name: NAME, namespace: default}
        spec:
          plugins:
          - name: response-rewrite
            enable: true
            config: {headers: {set: {X-Plugin-Version: "VERSION"}}}
        CORS"""
            .replace("NAME", name)
            .replace("VERSION", "" + version)
            .replace(
                "CORS", version % 2 == 1 ? "  - {name: cors, enable: true, config: {}}\n" : ""));
  }

  /** ApisixUpstream {@code service}: its routes' upstreams get {@code retries} and a timeout. */
  static void upstream(OperatorStack stack, String service, int retries) {
    stack.apply(
        ApisixUpstream.class,
        """
        apiVersion: apisix.apache.org/v2
        kind: ApisixUpstream
        metadata: {name: NAME, namespace: default}
        spec:
          retries: RETRIES
          timeout: {connect: 5s, read: 30s, send: 30s}
        """
            .replace("NAME", service)
            .replace("RETRIES", "" + retries));
  }

  static void deleteRoute(OperatorStack stack, String name) {
    stack.client().resources(ApisixRoute.class).inNamespace("default").withName(name).delete();
  }

  /**
   * Deletes the route and takes its finalizer off at once, as {@code kubectl delete} with the
   * finalizer patched away does: the resource is gone before any operator saw it go, and only the
   * start-up resync can remove its keys.
   */
  static void forceDeleteRoute(OperatorStack stack, String name) {
    var op = stack.client().resources(ApisixRoute.class).inNamespace("default").withName(name);
    op.delete();
    if (op.get() != null) {
      op.edit(
          r -> {
            r.getMetadata().setFinalizers(List.of());
            return r;
          });
    }
  }

  /**
   * Why a resource's status is not caught up with its spec, or null when it is: every condition
   * observed the current generation, and Accepted (and, for a route, Programmed) are True.
   */
  static String notCaughtUp(HasMetadata r) {
    var generation = r.getMetadata().getGeneration();
    var types =
        r instanceof ApisixRoute || r instanceof ApisixPluginConfig
            ? List.of("Accepted", "Programmed")
            : List.of("Accepted");
    for (var type : types) {
      var c = KubeMock.condition(r, type);
      if (c.isEmpty()) {
        return r.getKind() + " " + r.getMetadata().getName() + ": no " + type;
      }
      if (!"True".equals(c.get().getStatus())
          || !java.util.Objects.equals(c.get().getObservedGeneration(), generation)) {
        return r.getKind()
            + " "
            + r.getMetadata().getName()
            + ": "
            + type
            + " "
            + c.get().getStatus()
            + " at generation "
            + c.get().getObservedGeneration()
            + " of "
            + generation
            + " ("
            + c.get().getMessage()
            + ")";
      }
    }
    return null;
  }

  /** The resources whose status is not caught up, with why. */
  static List<String> notCaughtUp(OperatorStack stack) {
    return notCaughtUp(stack, KINDS);
  }

  /** The resources of these kinds whose status is not caught up, with why. */
  static List<String> notCaughtUp(OperatorStack stack, List<Class<? extends HasMetadata>> kinds) {
    var out = new ArrayList<String>();
    for (var kind : kinds) {
      for (var r : stack.client().resources(kind).inNamespace("default").list().getItems()) {
        var why = notCaughtUp(r);
        if (why != null) {
          out.add(why);
        }
      }
    }
    return out;
  }

  /**
   * Waits until etcd holds exactly what the resources translate to (no key missing, no orphan, no
   * stale value) and every status is caught up; returns etcd's content then.
   */
  static TreeMap<String, JsonNode> awaitConverged(OperatorStack stack, Duration atMost) {
    return awaitConverged(stack, atMost, KINDS);
  }

  /** As {@link #awaitConverged(OperatorStack, Duration)}, for the resources of these kinds. */
  static TreeMap<String, JsonNode> awaitConverged(
      OperatorStack stack, Duration atMost, List<Class<? extends HasMetadata>> kinds) {
    var content = new TreeMap<String, JsonNode>();
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              var expected = stack.expected(kinds);
              var actual = stack.etcdContent();
              var orphans = new java.util.TreeSet<>(actual.keySet());
              orphans.removeAll(expected.keySet());
              var owners = new ArrayList<String>();
              for (var k : orphans) {
                var name = actual.get(k).path("labels").path("archway.io/owner-name").asText();
                var r =
                    stack
                        .client()
                        .resources(ApisixRoute.class)
                        .inNamespace("default")
                        .withName(name)
                        .get();
                owners.add(
                    name
                        + (r == null
                            ? " gone"
                            : " deletionTimestamp="
                                + r.getMetadata().getDeletionTimestamp()
                                + " finalizers="
                                + r.getMetadata().getFinalizers()));
              }
              assertThat(actual.keySet())
                  .as("etcd keys (the owners of the orphans: %s)", owners)
                  .containsExactlyInAnyOrderElementsOf(expected.keySet());
              for (var e : expected.entrySet()) {
                assertThat(actual.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
              }
              assertThat(notCaughtUp(stack, kinds)).as("statuses behind").isEmpty();
              content.clear();
              content.putAll(actual);
            });
    return content;
  }
}
