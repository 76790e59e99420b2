package io.archway.dataplane.config.xds;

import com.google.rpc.Code;
import com.google.rpc.Status;
import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.source.Backoff;
import io.archway.model.source.ConfigChange;
import io.archway.model.source.ConfigItem;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigSource;
import io.archway.model.source.ConfigState;
import io.archway.model.source.SourceStatus;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config from an xDS management server (istiod, or any Envoy control plane): one ADS stream,
 * state of the world, subscribed to listeners and clusters (wildcard) and to the route
 * configurations and load assignments they name. Each response is checked whole ({@link
 * XdsTranslator}), then ACKed with its version and nonce, or NACKed with the first problem as
 * {@code error_detail}; a NACKed update changes nothing.
 *
 * <p>All state lives on the source's one thread; gRPC's callbacks hand over to it. When the stream
 * breaks the last accepted config stays in force; the source reconnects with jittered backoff and
 * asks again with the versions it has, so the server resends only what changed.
 *
 * <p>The first config is delivered once listeners, clusters, and every route configuration and load
 * assignment they name have come (Envoy's initial fetch); later updates are delivered as the
 * changes between two translations.
 */
public final class XdsConfigSource implements ConfigSource {

  private static final Logger log = LoggerFactory.getLogger(XdsConfigSource.class);

  /** The order Envoy asks in: what names the others first. */
  private static final List<String> TYPES =
      List.of(
          XdsTranslator.LISTENER,
          XdsTranslator.CLUSTER,
          XdsTranslator.ROUTE,
          XdsTranslator.ENDPOINT,
          XdsTranslator.SECRET);

  private static final Set<String> WILDCARD = Set.of(XdsTranslator.LISTENER, XdsTranslator.CLUSTER);

  /**
   * How to reach the management server and who this dataplane says it is.
   *
   * @param target {@code host:port} of the server's plaintext gRPC port (istiod: 15010)
   * @param node the node sent with every request (id, cluster, Istio's metadata)
   */
  public record Settings(String target, Node node, Duration backoffMin, Duration backoffMax) {

    public static Settings of(String target, Node node) {
      return new Settings(target, node, Duration.ofMillis(100), Duration.ofSeconds(5));
    }
  }

  private final Settings settings;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            var t = new Thread(r, "archway-xds");
            t.setDaemon(true);
            return t;
          });
  private final Backoff backoff;
  private final Map<String, TypeState> types = new LinkedHashMap<>();

  private XdsResources resources = new XdsResources();
  private ConfigListener listener;
  private ManagedChannel channel;
  private StreamObserver<DiscoveryRequest> requests;
  private int stream;
  private Map<Key, ConfigObject> delivered;
  private volatile boolean closed;

  // What status() reports; written on the source's thread.
  private volatile boolean connected;
  private volatile boolean loaded;
  private volatile long revision;
  private volatile String lastError;
  private volatile Map<String, String> rejected = Map.of();
  private volatile long rejectedTotal;
  private volatile long acked;

  public XdsConfigSource(Settings settings) {
    this.settings = settings;
    this.backoff = new Backoff(settings.backoffMin(), settings.backoffMax());
    for (var t : TYPES) {
      types.put(t, new TypeState());
    }
  }

  @Override
  public void start(ConfigListener listener) {
    this.listener = listener;
    thread.execute(
        () -> {
          channel =
              Grpc.newChannelBuilder(settings.target(), InsecureChannelCredentials.create())
                  // istiod's pushes for a large mesh are far above gRPC's default 4 MiB.
                  .maxInboundMessageSize(64 << 20)
                  .keepAliveTime(30, TimeUnit.SECONDS)
                  .keepAliveTimeout(10, TimeUnit.SECONDS)
                  .build();
          connect();
        });
  }

  @Override
  public SourceStatus status() {
    return new SourceStatus(
        "xds " + settings.target(),
        connected,
        loaded,
        revision,
        lastError,
        rejected,
        rejectedTotal,
        loaded ? 1 : 0);
  }

  /** Updates ACKed since start (for tests and metrics). */
  long acked() {
    return acked;
  }

  @Override
  public void close() {
    closed = true;
    thread.execute(
        () -> {
          if (requests != null) {
            requests.onError(io.grpc.Status.CANCELLED.asRuntimeException());
          }
          if (channel != null) {
            channel.shutdownNow();
          }
        });
    thread.shutdown();
    try {
      if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------------- the stream

  private void connect() {
    if (closed) {
      return;
    }
    int id = ++stream;
    // The channel's own reconnect backoff grows to minutes; ours decides when to try.
    channel.resetConnectBackoff();
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(new Responses(id));
    for (var e : types.entrySet()) {
      var type = e.getKey();
      var state = e.getValue();
      if (WILDCARD.contains(type) || !state.names.isEmpty()) {
        // A resumed stream says which versions it has: the server sends only what changed.
        send(request(type, state.version, "").build());
      }
    }
  }

  private void broken(int id, Throwable t) {
    if (id != stream || closed) {
      return;
    }
    connected = false;
    requests = null;
    var status = io.grpc.Status.fromThrowable(t);
    lastError =
        "xds stream to "
            + settings.target()
            + ": "
            + status.getCode()
            + (status.getDescription() == null ? "" : " " + status.getDescription());
    // A type's nonce belongs to the stream that sent it.
    types.values().forEach(s -> s.nonce = "");
    var wait = backoff.next();
    if (backoff.attempts() <= 1 || backoff.attempts() % 10 == 0) {
      log.warn(
          "{}; the last config stays in force; reconnecting in {} ms", lastError, wait.toMillis());
    }
    thread.schedule(this::connect, wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void send(DiscoveryRequest request) {
    if (requests != null) {
      requests.onNext(request);
    }
  }

  private DiscoveryRequest.Builder request(String type, String version, String nonce) {
    var state = types.get(type);
    return DiscoveryRequest.newBuilder()
        .setNode(settings.node())
        .setTypeUrl(type)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .addAllResourceNames(WILDCARD.contains(type) ? List.of() : state.names);
  }

  // ---------------------------------------------------------------------- a response

  private void onResponse(int id, DiscoveryResponse response) {
    if (id != stream || closed) {
      return;
    }
    connected = true;
    backoff.reset();
    var type = response.getTypeUrl();
    var state = types.get(type);
    if (state == null) {
      send(
          DiscoveryRequest.newBuilder()
              .setNode(settings.node())
              .setTypeUrl(type)
              .setResponseNonce(response.getNonce())
              .setErrorDetail(error("type " + type + " not subscribed"))
              .build());
      return;
    }
    state.nonce = response.getNonce();
    // Applied to a copy and (once a config is served) translated whole before the ACK: else a NACK,
    // and the served config stays, rather than an accepted response stopping every later update.
    var staged = resources.copy();
    Map<Key, ConfigObject> assembled = null;
    try {
      staged.apply(type, response.getResourcesList());
      if (delivered != null) {
        assembled = staged.assemble();
      }
    } catch (XdsException | RuntimeException e) {
      var reason = kind(type) + " version " + response.getVersionInfo() + ": " + e.getMessage();
      lastError = reason;
      // A server may send a rejected version again at once (java-control-plane does, until it
      // has a newer one): it is logged and counted once.
      if (!reason.equals(state.rejected)) {
        state.rejected = reason;
        rejectedTotal++;
        log.warn("xds: NACK {}", reason);
        var now = new TreeMap<>(rejected);
        now.put(kind(type), reason);
        rejected = Map.copyOf(now);
      }
      send(
          request(type, state.version, response.getNonce())
              .setErrorDetail(error(e.getMessage()))
              .build());
      return;
    }
    resources = staged;
    state.version = response.getVersionInfo();
    state.received = true;
    state.rejected = null;
    acked++;
    if (rejected.containsKey(kind(type))) {
      var now = new TreeMap<>(rejected);
      now.remove(kind(type));
      rejected = Map.copyOf(now);
    }
    lastError = null;
    send(request(type, state.version, state.nonce).build());
    // New listeners and clusters name new route configurations and load assignments.
    boolean forgot = subscribe(XdsTranslator.ROUTE, resources.routeNames());
    forgot |= subscribe(XdsTranslator.ENDPOINT, resources.endpointNames());
    forgot |= subscribe(XdsTranslator.SECRET, resources.secretNames());
    publish(forgot ? null : assembled);
  }

  /** Asks for these names of {@code type}; whether that changed what is asked for. */
  private boolean subscribe(String type, TreeSet<String> names) {
    var state = types.get(type);
    if (state.names.equals(names)) {
      return false;
    }
    state.names = names;
    // Resources no longer asked for are forgotten, as the server will not update them.
    resources.retain(type, names);
    send(request(type, state.version, state.nonce).build());
    return true;
  }

  // ------------------------------------------------------------------------ delivering

  /** Delivers what changed; {@code assembled}: the resources' translation, when already made. */
  private void publish(Map<Key, ConfigObject> assembled) {
    if (delivered == null && !complete()) {
      return;
    }
    Map<Key, ConfigObject> next;
    try {
      next = assembled != null ? assembled : resources.assemble();
    } catch (IllegalStateException e) {
      lastError = "xds: " + e.getMessage();
      log.error("xds: the accepted resources do not translate: {}", e.getMessage());
      return;
    }
    if (closed) {
      return;
    }
    if (delivered == null) {
      revision++;
      var items = new TreeMap<Key, ConfigItem>();
      next.forEach((k, v) -> items.put(k, new ConfigItem(k, v, revision)));
      delivered = next;
      listener.onState(new ConfigState(items, revision));
      loaded = true;
      log.info("xds: first config from {}: {} objects", settings.target(), next.size());
      return;
    }
    var changes = new ArrayList<ConfigChange>();
    long rev = revision + 1;
    for (var e : delivered.entrySet()) {
      if (!next.containsKey(e.getKey())) {
        changes.add(new ConfigChange.Delete(e.getKey(), rev));
      }
    }
    for (var e : next.entrySet()) {
      if (!e.getValue().equals(delivered.get(e.getKey()))) {
        changes.add(new ConfigChange.Put(new ConfigItem(e.getKey(), e.getValue(), rev)));
      }
    }
    if (changes.isEmpty()) {
      return;
    }
    revision = rev;
    listener.onChanges(changes, rev);
    delivered = next; // after the listener took them: a change it threw on is sent again
  }

  /** Listeners and clusters came, and every resource they name (secrets too). */
  private boolean complete() {
    return resources.complete(types);
  }

  private static Status error(String message) {
    return Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(message).build();
  }

  private static String kind(String type) {
    return type.substring(type.lastIndexOf('.') + 1);
  }

  /** gRPC's callbacks, handed over to the source's thread. */
  private final class Responses
      implements ClientResponseObserver<DiscoveryRequest, DiscoveryResponse> {
    private final int id;

    Responses(int id) {
      this.id = id;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> call) {}

    @Override
    public void onNext(DiscoveryResponse response) {
      execute(() -> onResponse(id, response));
    }

    @Override
    public void onError(Throwable t) {
      execute(() -> broken(id, t));
    }

    @Override
    public void onCompleted() {
      execute(
          () ->
              broken(
                  id,
                  io.grpc.Status.UNAVAILABLE
                      .withDescription("closed by the server")
                      .asException()));
    }

    private void execute(Runnable r) {
      if (!closed) {
        try {
          thread.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // closing
        }
      }
    }
  }
}
