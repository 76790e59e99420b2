package io.archway.e2e.chaos;

import io.archway.model.testing.Ports;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A Deployment behind a Service of namespace {@code default} (port 80, named {@code http}), as the
 * Kubernetes controllers show it to a gateway: its pods are real HTTP servers ({@link PodBackend}),
 * each on its own loopback IP ({@code 127.0.0.10} and up) and the Service's target port, and their
 * endpoints are one EndpointSlice that this class writes to the API server as the EndpointSlice
 * controller would.
 *
 * <p>It rolls as a Deployment with {@code maxSurge: 1, maxUnavailable: 0} does, in the order
 * Kubernetes follows ({@link #step}): a new pod starts and its endpoint appears not ready; its
 * readiness probe passes and the endpoint turns ready; then an old pod is deleted: its endpoint
 * turns terminating at once ({@code ready: false, serving: true, terminating: true}) while its
 * process keeps running through its preStop sleep, the {@code grace}; then the process stops and
 * the endpoint is removed. An IP is given back when its pod is gone and the next new pod takes the
 * lowest free one, so addresses are reused as soon as they can be. {@link #flap} makes a ready
 * pod's readiness probe fail for a while.
 */
final class Deployment implements AutoCloseable {

  /** How long a new pod's endpoint stays not ready before its readiness probe passes. */
  static final Duration STARTUP = Duration.ofMillis(300);

  private enum State {
    STARTING,
    READY,
    NOT_READY,
    TERMINATING
  }

  private static final class Pod {
    final PodBackend backend;
    final int revision;
    State state = State.STARTING;
    boolean serving;

    Pod(PodBackend backend, int revision) {
      this.backend = backend;
      this.revision = revision;
    }
  }

  private final KubernetesClient client;
  private final String service;
  private final int port;
  private final Duration grace;
  private final List<Pod> pods = new ArrayList<>();
  private final List<PodBackend> all = new ArrayList<>();
  private final TreeSet<Integer> freeIps = new TreeSet<>();
  private final Set<Integer> usedIps = new HashSet<>();
  private final ScheduledExecutorService later =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("deployment").unstarted(r));
  private int revision = 1;
  private int created;
  private int replaced;
  private int reusedIps;
  private int flaps;
  private int pending; // terminations and flaps not over yet
  private String sliceVersion; // the EndpointSlice's resourceVersion; null before it exists

  private Deployment(KubernetesClient client, String service, int base, int port, Duration grace) {
    this.client = client;
    this.service = service;
    this.port = port;
    this.grace = grace;
    for (int i = base; i < base + 100; i++) {
      freeIps.add(i);
    }
  }

  /**
   * Creates the Service and {@code replicas} ready pods.
   *
   * @param service the Service's name, in namespace {@code default}; its pods are named after it
   * @param base the last byte of the pods' first IP ({@code 127.0.0.base}); a hundred follow
   * @param grace a deleted pod's preStop sleep: how long its process runs on once its endpoint is
   *     terminating; also how long after its endpoint stops being ready a pod may still get
   *     requests
   */
  static Deployment create(
      KubernetesClient client, String service, int base, int replicas, Duration grace)
      throws IOException {
    // Free on 127.0.0.1, so most likely on the other loopback addresses too.
    var d = new Deployment(client, service, base, Ports.free(), grace);
    client
        .resource(
            Serialization.unmarshal(
                "apiVersion: v1\nkind: Service\nmetadata: {name: "
                    + service
                    + ", namespace: default}\n"
                    + "spec: {ports: [{name: http, port: 80, targetPort: "
                    + d.port
                    + "}]}\n",
                Service.class))
        .createOr(e -> e.update());
    synchronized (d) {
      for (int i = 0; i < replicas; i++) {
        var pod = d.newPod();
        ready(pod);
      }
      d.publish();
    }
    return d;
  }

  /**
   * One step of the rollout: a new pod of the current revision starts (its endpoint not ready),
   * turns ready after {@link #STARTUP}, then the oldest pod of an older revision is deleted (its
   * endpoint terminating, its process stopped after the grace, then its endpoint removed). When
   * every pod is of the current revision, a new rollout begins (the pod template changed again).
   */
  void step() throws Exception {
    synchronized (this) {
      nextRevisionIfDone();
    }
    start();
    synchronized (this) {
      terminate(oldest());
    }
  }

  /**
   * One step of a rollout with {@code maxSurge: 0, maxUnavailable: 1}: the oldest pod of an older
   * revision is deleted first (terminating, still serving through its preStop sleep), then its
   * replacement starts and turns ready after {@link #STARTUP}. With one replica, no endpoint is
   * ready in between.
   */
  void stepUnavailableFirst() throws Exception {
    synchronized (this) {
      nextRevisionIfDone();
      terminate(oldest());
    }
    start();
  }

  /**
   * As {@link #step}, but the deleted pod has no preStop hook and its process exits on SIGTERM at
   * once: it is gone before its endpoint turns terminating, and its endpoint is removed right
   * after.
   */
  void stepWithoutPreStop() throws Exception {
    synchronized (this) {
      nextRevisionIfDone();
    }
    start();
    Pod old;
    synchronized (this) {
      old = oldest();
      old.state = State.TERMINATING;
    }
    old.backend.close();
    synchronized (this) {
      old.serving = false;
      old.backend.unready();
      publish();
      replaced++;
      pods.remove(old);
      publish();
      freeIps.add(ipSuffix(old.backend.ip()));
    }
  }

  private void nextRevisionIfDone() {
    if (pods.stream().noneMatch(p -> p.state != State.TERMINATING && p.revision < revision)) {
      revision++;
    }
  }

  /** The oldest pod of an older revision not being deleted yet. */
  private Pod oldest() {
    return pods.stream()
        .filter(p -> p.state != State.TERMINATING && p.revision < revision)
        .min(Comparator.comparingInt(p -> p.revision))
        .orElseThrow();
  }

  /** A new pod of the current revision: not ready, then ready after {@link #STARTUP}. */
  private void start() throws Exception {
    Pod fresh;
    synchronized (this) {
      fresh = newPod();
      publish();
    }
    Thread.sleep(STARTUP.toMillis());
    synchronized (this) {
      ready(fresh);
      publish();
    }
  }

  /** The pod is deleted: its endpoint terminates at once, its process stops after the grace. */
  private void terminate(Pod old) {
    old.serving = old.state == State.READY;
    old.state = State.TERMINATING;
    old.backend.unready();
    publish();
    replaced++;
    pending++;
    later.schedule(() -> gone(old), grace.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** After the preStop sleep: the process stops, then the endpoint goes and the IP is free. */
  private void gone(Pod pod) {
    pod.backend.close();
    synchronized (this) {
      pods.remove(pod);
      publish();
      freeIps.add(ipSuffix(pod.backend.ip()));
      pending--;
    }
  }

  /**
   * The readiness probe of a ready pod (not the newest) fails for longer than the grace, then
   * passes again (unless the pod was deleted meanwhile). Returns whether a pod could flap.
   */
  synchronized boolean flap() {
    var ready = pods.stream().filter(p -> p.state == State.READY).toList();
    if (ready.size() < 3) {
      return false;
    }
    var pod = ready.get(flaps % (ready.size() - 1));
    pod.state = State.NOT_READY;
    pod.backend.unready();
    publish();
    flaps++;
    pending++;
    later.schedule(
        () -> {
          synchronized (this) {
            if (pod.state == State.NOT_READY) {
              ready(pod);
              publish();
            }
            pending--;
          }
        },
        grace.toMillis() + 1000,
        TimeUnit.MILLISECONDS);
    return true;
  }

  /** Whether every deleted pod is gone and every flap is over. */
  synchronized boolean settled() {
    return pending == 0;
  }

  private Pod newPod() throws IOException {
    int suffix = freeIps.pollFirst();
    if (!usedIps.add(suffix)) {
      reusedIps++;
    }
    var backend =
        new PodBackend(
            service + "-" + revision + "-" + (++created), "127.0.0." + suffix, port, grace);
    var pod = new Pod(backend, revision);
    pods.add(pod);
    all.add(backend);
    return pod;
  }

  private static void ready(Pod pod) {
    pod.state = State.READY;
    pod.serving = true;
    pod.backend.ready();
  }

  private static int ipSuffix(String ip) {
    return Integer.parseInt(ip.substring(ip.lastIndexOf('.') + 1));
  }

  /** Writes the EndpointSlice as the pods are now, as the EndpointSlice controller does. */
  private void publish() {
    var endpoints = new ArrayList<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint>();
    for (var p : pods) {
      endpoints.add(
          new EndpointBuilder()
              .withAddresses(p.backend.ip())
              .withNewConditions()
              .withReady(p.state == State.READY)
              .withServing(p.state == State.READY || p.state == State.TERMINATING && p.serving)
              .withTerminating(p.state == State.TERMINATING)
              .endConditions()
              .withNewTargetRef()
              .withKind("Pod")
              .withNamespace("default")
              .withName(p.backend.name())
              .endTargetRef()
              .build());
    }
    EndpointSlice slice =
        new EndpointSliceBuilder()
            .withNewMetadata()
            .withName(service + "-abcde")
            .withNamespace("default")
            .withResourceVersion(sliceVersion)
            .addToLabels("kubernetes.io/service-name", service)
            .addToLabels(
                "endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")
            .endMetadata()
            .withAddressType("IPv4")
            .addNewPort()
            .withName("http")
            .withPort(port)
            .withProtocol("TCP")
            .endPort()
            .withEndpoints(endpoints)
            .build();
    // One request per change: the version of the last write makes it an update, as a controller's.
    var written =
        sliceVersion == null ? client.resource(slice).create() : client.resource(slice).update();
    sliceVersion = written.getMetadata().getResourceVersion();
  }

  /** Every pod that ever ran, in the order they started. */
  synchronized List<PodBackend> pods() {
    return List.copyOf(all);
  }

  /** Pods replaced so far (deleted in a rollout). */
  synchronized int replaced() {
    return replaced;
  }

  /** Pods that took an IP an earlier pod had. */
  synchronized int reusedIps() {
    return reusedIps;
  }

  synchronized int flaps() {
    return flaps;
  }

  /** Stops every pod still running. */
  @Override
  public void close() {
    later.shutdownNow();
    synchronized (this) {
      pods.forEach(p -> p.backend.close());
      pods.clear();
    }
  }
}
