package io.archway.dataplane.config.xds;

import io.archway.model.ConfigObject;
import io.archway.model.Keys.Key;
import io.archway.model.source.Backoff;
import io.archway.model.source.ConfigListener;
import io.archway.model.source.ConfigSource;
import io.archway.model.source.SourceStatus;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config from an xDS management server (istiod, or any Envoy control plane): one ADS stream,
 * state of the world here or delta ({@link XdsDeltaStream}), subscribed to listeners and clusters
 * (wildcard) and to the route configurations and load assignments they name. Each response is
 * checked ({@link XdsTranslator}), then ACKed with its version and nonce, or NACKed with the
 * problems as {@code error_detail}; a NACKed state-of-the-world update changes nothing, a delta one
 * applies its valid resources (as Envoy does).
 *
 * <p>All state lives on the source's one thread; gRPC's callbacks hand over to it, and the next
 * response is asked for only once the last one was handled. When the stream breaks the last
 * accepted config stays in force; the source reconnects with jittered backoff and asks again with
 * the versions it has, so the server resends only what changed.
 *
 * <p>The first config is delivered once listeners, clusters, and every route configuration and load
 * assignment they name have come (Envoy's initial fetch), or, when an initial fetch timeout is set
 * and passes, with what has come, the source not loaded (not ready) until it is complete; later
 * updates are delivered as the changes between two translations.
 */
public final class XdsConfigSource implements ConfigSource {

  private static final Logger log = LoggerFactory.getLogger(XdsConfigSource.class);

  /** The order Envoy asks in: what names the others first. */
  static final List<String> TYPES =
      List.of(
          XdsTranslator.LISTENER,
          XdsTranslator.CLUSTER,
          XdsTranslator.ROUTE,
          XdsTranslator.ENDPOINT,
          XdsTranslator.SECRET);

  static final Set<String> WILDCARD = Set.of(XdsTranslator.LISTENER, XdsTranslator.CLUSTER);

  /** The ADS variant spoken: state of the world, or delta (incremental). */
  public enum Protocol {
    SOTW,
    DELTA
  }

  /**
   * How to reach the management server and who this dataplane says it is.
   *
   * @param target {@code host:port} of the server's plaintext gRPC port (istiod: 15010)
   * @param node the node sent with every request (id, cluster, Istio's metadata)
   * @param initialFetchTimeout how long the first complete config may take before what has come is
   *     served (Envoy's {@code initial_fetch_timeout}); zero: no limit
   * @param sds Istio's agent's SDS server, {@code unix:///path} or {@code host:port}, or null
   */
  public record Settings(
      String target,
      Node node,
      Duration backoffMin,
      Duration backoffMax,
      Protocol protocol,
      Duration initialFetchTimeout,
      String sds) {

    public Settings(String target, Node node, Duration backoffMin, Duration backoffMax) {
      this(target, node, backoffMin, backoffMax, Protocol.SOTW, Duration.ZERO, null);
    }

    public static Settings of(String target, Node node) {
      return new Settings(target, node, Duration.ofMillis(100), Duration.ofSeconds(5));
    }

    public Settings with(Protocol p, Duration fetchTimeout) {
      return new Settings(target, node, backoffMin, backoffMax, p, fetchTimeout, sds);
    }
  }

  /**
   * A change to the accepted resources, tried on a copy first: throws when the whole is refused,
   * returns the resources left out alone (name to reason; delta only).
   */
  interface Change {
    Map<String, String> apply(XdsResources staged) throws XdsException;
  }

  /**
   * What became of a response: {@code error} for the NACK ({@code null}: ACK); {@code applied}:
   * whether the resources changed (all of it, or all but {@code refused}).
   */
  record Verdict(String error, Set<String> refused, boolean applied) {}

  private final Settings settings;
  private final ScheduledThreadPoolExecutor thread =
      new ScheduledThreadPoolExecutor(
          1,
          r -> {
            var t = new Thread(r, "archway-xds");
            t.setDaemon(true);
            return t;
          });
  private final Backoff backoff;
  private final Map<String, TypeState> types = new LinkedHashMap<>();
  private final XdsStream protocol;
  private final XdsMetrics metrics;
  private final XdsAgentSds sds;

  private XdsResources resources;
  private Map<Key, ConfigObject> assembled;
  private volatile ManagedChannel channel;
  private int stream;
  private ScheduledFuture<?> reconnect;
  private volatile XdsDelivery delivery;
  private final AtomicBoolean closed = new AtomicBoolean();
  private boolean fetchTimedOut;
  private volatile boolean partial;

  // What status() reports; written on the source's thread.
  private volatile boolean connected;
  private volatile String lastError;
  private volatile Map<String, String> rejected = Map.of();
  private volatile long rejectedTotal;

  public XdsConfigSource(Settings settings) {
    this.settings = settings;
    this.backoff = new Backoff(settings.backoffMin(), settings.backoffMax());
    for (var t : TYPES) {
      types.put(t, new TypeState());
    }
    metrics = new XdsMetrics(settings.protocol());
    resources = new XdsResources(settings.sds() != null);
    sds = new XdsAgentSds(this, settings, thread);
    protocol =
        settings.protocol() == Protocol.DELTA
            ? new XdsDeltaStream(this, settings.node())
            : new XdsSotwStream(this, settings.node(), types);
    // close() does not wait for a pending reconnect or timeout.
    thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  @Override
  public void start(ConfigListener listener) {
    delivery = new XdsDelivery(listener);
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
          sds.start();
        });
    var timeout = settings.initialFetchTimeout();
    if (timeout.isPositive()) {
      thread.schedule(this::initialFetchTimedOut, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public SourceStatus status() {
    var d = delivery;
    // Served after the initial fetch timed out yet not complete: not ready.
    boolean loaded = d != null && d.loaded() && !partial;
    return new SourceStatus(
        "xds " + settings.target() + (protocol instanceof XdsDeltaStream ? " delta" : ""),
        connected,
        loaded,
        d == null ? 0 : d.revision(),
        lastError,
        rejected,
        rejectedTotal,
        loaded ? 1 : 0);
  }

  /** ACKs, NACKs and updates, by protocol, for {@code /metrics}. */
  public XdsMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    thread.execute(
        () -> {
          if (reconnect != null) {
            reconnect.cancel(false);
          }
          protocol.cancel();
          sds.close();
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
    // The queued cleanup may not have run (the thread was busy past the wait, or shutdownNow()
    // dropped it): the channel is shut down here whatever happened; a second shutdownNow() is a
    // no-op.
    var c = channel;
    if (c != null) {
      c.shutdownNow();
    }
  }

  /** Whether the channel is shut down (tests). */
  boolean channelShutdown() {
    var c = channel;
    return c != null && c.isShutdown();
  }

  // ------------------------------------------------------------------------- the stream

  private void connect() {
    reconnect = null;
    if (closed.get()) {
      return;
    }
    int id = ++stream;
    // The channel's own reconnect backoff grows to minutes; ours decides when to try.
    channel.resetConnectBackoff();
    protocol.open(channel, id);
  }

  /** gRPC's callbacks of stream {@code id}, handled on the source's thread while it is current. */
  <Q, R> XdsStreamObserver<Q, R> observer(int id, Consumer<R> onResponse) {
    return new XdsStreamObserver<Q, R>(
        thread,
        r -> {
          if (id == stream && !closed.get()) {
            connected = true;
            backoff.reset();
            onResponse.accept(r);
          }
        },
        t -> broken(id, t));
  }

  private void broken(int id, Throwable t) {
    if (id != stream || closed.get()) {
      return;
    }
    connected = false;
    protocol.broken();
    var status = io.grpc.Status.fromThrowable(t);
    lastError =
        "xds stream to "
            + settings.target()
            + ": "
            + status.getCode()
            + (status.getDescription() == null ? "" : " " + status.getDescription());
    var wait = backoff.next();
    if (backoff.attempts() <= 1 || backoff.attempts() % 10 == 0) {
      log.warn(
          "{}; the last config stays in force; reconnecting in {} ms", lastError, wait.toMillis());
    }
    reconnect = thread.schedule(this::connect, wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Applies a response of {@code type} to a copy of the accepted resources and, once a config is
   * served, translates the whole, before anything is answered: a NACK keeps the served config,
   * rather than an accepted response stopping every later update. Returns why it was refused
   * ({@code null}: accepted, the copy replaces the resources); a refusal is logged and counted
   * once.
   */
  Verdict accept(String type, String version, Change change) {
    var state = type.equals(XdsAgentSds.TYPE) ? sds.state() : types.get(type);
    var staged = resources.copy();
    Map<Key, ConfigObject> next = null;
    Map<String, String> refused;
    try {
      refused = change.apply(staged);
      if (delivery.started()) {
        next = staged.assemble();
      }
    } catch (XdsException | RuntimeException e) {
      var reason = kind(type) + " version " + version + ": " + e.getMessage();
      nack(state, reason, Map.of(kind(type), reason));
      return new Verdict(e.getMessage(), Set.of(), false);
    }
    resources = staged;
    assembled = next;
    state.version = version;
    state.received = true;
    var now = new TreeMap<>(rejected);
    now.remove(kind(type));
    // A name taken or removed is no longer invalid; one refused again stays so.
    now.keySet().removeIf(k -> k.startsWith(kind(type) + " \"") && !refused.containsKey(name(k)));
    rejected = Map.copyOf(now);
    if (!refused.isEmpty()) {
      var named = new TreeMap<String, String>();
      refused.forEach((n, why) -> named.put(kind(type) + " \"" + n + "\"", why));
      var reason = kind(type) + " version " + version + ": " + String.join("; ", refused.values());
      nack(state, reason, named);
      return new Verdict(String.join("; ", refused.values()), refused.keySet(), true);
    }
    state.rejected = null;
    metrics.ack();
    lastError = null;
    return new Verdict(null, Set.of(), true);
  }

  /** Records a NACK: logged and counted once, named in {@code /readyz}'s invalid entries. */
  private void nack(TypeState state, String reason, Map<String, String> invalid) {
    lastError = reason;
    metrics.nack();
    // A server may send a rejected version again at once (java-control-plane does, until it
    // has a newer one): it is logged and counted once.
    if (!reason.equals(state.rejected)) {
      state.rejected = reason;
      rejectedTotal++;
      log.warn("xds: NACK {}", reason);
    }
    var now = new TreeMap<>(rejected);
    now.putAll(invalid);
    rejected = Map.copyOf(now);
  }

  /** The resource name of an invalid entry {@code Kind "name"}. */
  private static String name(String entry) {
    int q = entry.indexOf('"');
    return entry.substring(q + 1, entry.length() - 1);
  }

  /** After an ACK: follows the names the listeners and clusters give, then delivers. */
  void accepted() {
    // New listeners and clusters name new route configurations and load assignments.
    boolean forgot = subscribe(XdsTranslator.ROUTE, resources.routeNames());
    forgot |= subscribe(XdsTranslator.ENDPOINT, resources.endpointNames());
    forgot |= subscribe(XdsTranslator.SECRET, resources.secretNames());
    forgot |= sds.follow(resources);
    var made = assembled;
    assembled = null;
    if (delivery.started() || complete()) {
      deliver(forgot ? null : made);
    } else if (fetchTimedOut) {
      initialFetchTimedOut();
    }
    partial = fetchTimedOut && !complete();
    if (partial) {
      lastError = incomplete();
    }
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
    protocol.follow(type, names);
    return true;
  }

  // ------------------------------------------------------------------------ delivering

  /** Delivers what changed; {@code assembled}: the resources' translation, when already made. */
  private void deliver(Map<Key, ConfigObject> assembled) {
    Map<Key, ConfigObject> next;
    try {
      next = assembled != null ? assembled : resources.assemble();
    } catch (IllegalStateException e) {
      lastError = "xds: " + e.getMessage();
      log.error("xds: the accepted resources do not translate: {}", e.getMessage());
      return;
    }
    if (closed.get()) {
      return;
    }
    long before = delivery.revision();
    if (delivery.deliver(next)) {
      log.info("xds: first config from {}: {} objects", settings.target(), next.size());
    }
    if (delivery.revision() != before) {
      metrics.update();
    }
  }

  /** Listeners and clusters came, and every resource they name (secrets too). */
  private boolean complete() {
    // A refused resource is not there yet: with a refused first cluster, a later response of
    // another type does not make an empty base complete.
    return rejected.isEmpty() && resources.complete(types);
  }

  /**
   * Envoy's initial fetch timeout: with listeners and clusters, what has come is served (a route
   * configuration not come serves nothing, a load assignment not come 503); until everything named
   * has come, {@code last_error} in {@code /readyz} says what is missing.
   */
  private void initialFetchTimedOut() {
    if (closed.get() || delivery.started()) {
      return;
    }
    lastError = incomplete();
    if (!fetchTimedOut) {
      fetchTimedOut = true;
      log.warn(lastError);
    }
    if (types.get(XdsTranslator.LISTENER).received && types.get(XdsTranslator.CLUSTER).received) {
      log.warn("xds: serving the listeners and clusters that came; not ready until complete");
      partial = !complete();
      deliver(null);
    }
  }

  private String incomplete() {
    var missing = new ArrayList<String>();
    for (var type : TYPES) {
      if (WILDCARD.contains(type) && !types.get(type).received) {
        missing.add(kind(type) + " (none yet)");
      }
    }
    missing.addAll(
        resources.missing(
            types.get(XdsTranslator.ROUTE).names,
            types.get(XdsTranslator.ENDPOINT).names,
            types.get(XdsTranslator.SECRET).names));
    return "xds: no complete config from "
        + settings.target()
        + " within "
        + settings.initialFetchTimeout().toMillis()
        + " ms; missing: "
        + String.join(", ", missing);
  }

  private static String kind(String type) {
    return type.substring(type.lastIndexOf('.') + 1);
  }
}
