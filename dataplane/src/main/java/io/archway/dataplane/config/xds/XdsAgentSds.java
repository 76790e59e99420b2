package io.archway.dataplane.config.xds;

import io.archway.model.source.Backoff;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secrets of Istio's agent ({@code --xds-sds}): pilot-agent beside the dataplane serves SDS,
 * state of the world ({@code StreamSecrets}), on a Unix socket; Istio's clusters name its secrets
 * ({@code default}, the workload certificate, and {@code ROOTCA}) with the config source {@code
 * api_config_source} of cluster {@code sds-grpc} rather than ADS. This second stream asks for the
 * names the accepted clusters give and ACKs or NACKs as the ADS one does; what it accepts goes into
 * the source's resources (named apart, {@link #key}), so warming and rotation are the ADS secrets'.
 *
 * <p>Runs on the source's thread; reconnects on its own with jittered backoff, the last accepted
 * secrets staying in force meanwhile.
 */
final class XdsAgentSds {

  private static final Logger log = LoggerFactory.getLogger(XdsAgentSds.class);

  /** Envoy's cluster name for the agent's SDS server in Istio's bootstrap. */
  static final String CLUSTER = "sds-grpc";

  /** The agent's secrets' type in the source's bookkeeping (NACKs, {@code /readyz}). */
  static final String TYPE = XdsTls.SECRET + " (" + CLUSTER + ")";

  private static final String PREFIX = CLUSTER + "/";

  private final XdsConfigSource source;
  private final String address;
  private final Node node;
  private final ScheduledExecutorService thread;
  private final Backoff backoff;
  private final TypeState state = new TypeState();
  private EventLoopGroup group;
  private ManagedChannel channel;
  private StreamObserver<DiscoveryRequest> requests;
  private ScheduledFuture<?> reconnect;
  private int stream;
  private boolean closed;

  /** The agent at {@code settings.sds()}: {@code unix:///path} or {@code host:port}; or none. */
  XdsAgentSds(
      XdsConfigSource source, XdsConfigSource.Settings settings, ScheduledExecutorService thread) {
    this.source = source;
    this.address = settings.sds();
    this.node = settings.node();
    this.backoff = new Backoff(settings.backoffMin(), settings.backoffMax());
    this.thread = thread;
  }

  /** Whether an SDS config source is Istio's agent (cluster {@code sds-grpc}). */
  static boolean isAgent(ConfigSource c) {
    return c.hasApiConfigSource()
        && c.getApiConfigSource().getGrpcServicesCount() == 1
        && CLUSTER.equals(
            c.getApiConfigSource().getGrpcServices(0).getEnvoyGrpc().getClusterName());
  }

  /** The name an agent's secret has among the source's secrets: apart from ADS's. */
  static String key(String name) {
    return PREFIX + name;
  }

  static boolean isKey(String key) {
    return key.startsWith(PREFIX);
  }

  static String name(String key) {
    return key.substring(PREFIX.length());
  }

  TypeState state() {
    return state;
  }

  /** Opens the channel and the stream (on the source's thread). */
  void start() {
    if (address == null) {
      return;
    }
    if (address.startsWith("unix://")) {
      if (!Epoll.isAvailable()) {
        // The options refuse this before; kept for the settings built in code.
        throw new IllegalStateException(
            "xds sds " + address + ": Unix sockets need Netty's epoll transport (Linux)");
      }
      group =
          new EpollEventLoopGroup(
              1, (java.util.concurrent.ThreadFactory) r -> daemon(r, "archway-xds-sds"));
      channel =
          NettyChannelBuilder.forAddress(new DomainSocketAddress(address.substring(7)))
              .eventLoopGroup(group)
              .channelType(EpollDomainSocketChannel.class)
              .usePlaintext()
              .build();
    } else {
      channel = Grpc.newChannelBuilder(address, InsecureChannelCredentials.create()).build();
    }
    connect();
  }

  private static Thread daemon(Runnable r, String name) {
    var t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Follows the agent's secrets {@code resources}' clusters name; whether that changed what is
   * asked for (secrets no longer named are forgotten).
   */
  boolean follow(XdsResources resources) {
    if (address == null) {
      return false;
    }
    TreeSet<String> names = resources.agentSecretNames();
    if (names.equals(state.names)) {
      return false;
    }
    state.names = names;
    resources.retainAgent(names);
    if (!names.isEmpty()) {
      send(request(state.version, state.nonce).build());
    }
    return true;
  }

  void close() {
    closed = true;
    if (reconnect != null) {
      reconnect.cancel(false);
    }
    if (requests != null) {
      requests.onError(io.grpc.Status.CANCELLED.asRuntimeException());
      requests = null;
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private void connect() {
    reconnect = null;
    if (closed) {
      return;
    }
    int id = ++stream;
    channel.resetConnectBackoff();
    requests =
        SecretDiscoveryServiceGrpc.newStub(channel)
            .streamSecrets(
                new XdsStreamObserver<DiscoveryRequest, DiscoveryResponse>(
                    thread,
                    r -> {
                      if (id == stream && !closed) {
                        backoff.reset();
                        onResponse(r);
                      }
                    },
                    t -> broken(id, t)));
    if (!state.names.isEmpty()) {
      // A resumed stream says which version it has: the agent sends only what changed.
      send(request(state.version, "").build());
    }
  }

  private void broken(int id, Throwable t) {
    if (id != stream || closed) {
      return;
    }
    requests = null;
    state.nonce = "";
    var status = io.grpc.Status.fromThrowable(t);
    var wait = backoff.next();
    if (backoff.attempts() <= 1 || backoff.attempts() % 10 == 0) {
      log.warn(
          "xds sds stream to {}: {}{}; the secrets accepted stay in force; reconnecting in {} ms",
          address,
          status.getCode(),
          status.getDescription() == null ? "" : " " + status.getDescription(),
          wait.toMillis());
    }
    reconnect = thread.schedule(this::connect, wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void onResponse(DiscoveryResponse response) {
    if (!XdsTls.SECRET.equals(response.getTypeUrl())) {
      send(
          request(state.version, response.getNonce())
              .setErrorDetail(
                  XdsStream.error(
                      "type " + response.getTypeUrl() + " not subscribed (expected: secrets)"))
              .build());
      return;
    }
    state.nonce = response.getNonce();
    var verdict =
        source.accept(
            TYPE,
            response.getVersionInfo(),
            r -> {
              r.applyAgent(response.getResourcesList());
              return java.util.Map.of();
            });
    XdsStream.answer(source, verdict, request(state.version, state.nonce), this::send);
  }

  private void send(DiscoveryRequest request) {
    if (requests != null) {
      requests.onNext(request);
    }
  }

  private DiscoveryRequest.Builder request(String version, String nonce) {
    return DiscoveryRequest.newBuilder()
        .setNode(node)
        .setTypeUrl(XdsTls.SECRET)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .addAllResourceNames(state.names);
  }
}
