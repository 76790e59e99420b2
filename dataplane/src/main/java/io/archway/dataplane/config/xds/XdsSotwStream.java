package io.archway.dataplane.config.xds;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ADS state of the world ({@code StreamAggregatedResources}): every request of a type carries the
 * names followed and the last accepted version; an ACK repeats the response's version and nonce, a
 * NACK the last accepted version with the response's nonce and {@code error_detail}.
 */
final class XdsSotwStream implements XdsStream {

  private final XdsConfigSource source;
  private final Node node;
  private final Map<String, TypeState> types;
  private StreamObserver<DiscoveryRequest> requests;

  XdsSotwStream(XdsConfigSource source, Node node, Map<String, TypeState> types) {
    this.source = source;
    this.node = node;
    this.types = types;
  }

  @Override
  public void open(Channel channel, int id) {
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(source.observer(id, this::onResponse));
    for (var e : types.entrySet()) {
      var type = e.getKey();
      var state = e.getValue();
      if (XdsConfigSource.WILDCARD.contains(type) || !state.names.isEmpty()) {
        // A resumed stream says which versions it has: the server sends only what changed.
        send(request(type, state.version, "").build());
      }
    }
  }

  @Override
  public void follow(String type, Set<String> names) {
    var state = types.get(type);
    send(request(type, state.version, state.nonce).build());
  }

  @Override
  public void broken() {
    requests = null;
    // A type's nonce belongs to the stream that sent it.
    types.values().forEach(s -> s.nonce = "");
  }

  @Override
  public void cancel() {
    if (requests != null) {
      requests.onError(io.grpc.Status.CANCELLED.asRuntimeException());
      requests = null;
    }
  }

  private void onResponse(DiscoveryResponse response) {
    var type = response.getTypeUrl();
    var state = types.get(type);
    if (state == null) {
      send(
          DiscoveryRequest.newBuilder()
              .setNode(node)
              .setTypeUrl(type)
              .setResponseNonce(response.getNonce())
              .setErrorDetail(XdsStream.error("type " + type + " not subscribed"))
              .build());
      return;
    }
    state.nonce = response.getNonce();
    var verdict =
        source.accept(
            type,
            response.getVersionInfo(),
            r -> {
              r.apply(type, response.getResourcesList());
              return Map.of();
            });
    XdsStream.answer(source, verdict, request(type, state.version, state.nonce), this::send);
  }

  private void send(DiscoveryRequest request) {
    if (requests != null) {
      requests.onNext(request);
    }
  }

  private DiscoveryRequest.Builder request(String type, String version, String nonce) {
    var state = types.get(type);
    return DiscoveryRequest.newBuilder()
        .setNode(node)
        .setTypeUrl(type)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .addAllResourceNames(XdsConfigSource.WILDCARD.contains(type) ? List.of() : state.names);
  }
}
