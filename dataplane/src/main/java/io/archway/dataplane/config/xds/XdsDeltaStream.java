package io.archway.dataplane.config.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * ADS delta ({@code DeltaAggregatedResources}): listeners and clusters are subscribed by wildcard,
 * route configurations and load assignments by name as listeners and clusters name them ({@code
 * resource_names_subscribe} / {@code _unsubscribe}); a response carries only the resources that
 * changed and the names removed. A new stream sends the versions held ({@code
 * initial_resource_versions}), so the server can leave out what did not change. ACKs and NACKs are
 * Envoy's: the response's nonce, and for a NACK {@code error_detail}.
 */
final class XdsDeltaStream implements XdsStream {

  private final XdsConfigSource source;
  private final Node node;
  private final Map<String, XdsDeltaState> states = new LinkedHashMap<>();
  private StreamObserver<DeltaDiscoveryRequest> requests;

  XdsDeltaStream(XdsConfigSource source, Node node) {
    this.source = source;
    this.node = node;
    for (var type : XdsConfigSource.TYPES) {
      states.put(type, new XdsDeltaState(type, XdsConfigSource.WILDCARD.contains(type)));
    }
  }

  @Override
  public void open(Channel channel, int id) {
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .deltaAggregatedResources(source.observer(id, this::onResponse));
    for (var state : states.values()) {
      var initial = state.initial();
      if (initial != null) {
        send(initial);
      }
    }
  }

  @Override
  public void follow(String type, Set<String> names) {
    var change = states.get(type).follow(names);
    if (!change.empty()) {
      send(
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(type)
              .addAllResourceNamesSubscribe(change.subscribe())
              .addAllResourceNamesUnsubscribe(change.unsubscribe()));
    }
  }

  @Override
  public void broken() {
    requests = null;
  }

  @Override
  public void cancel() {
    if (requests != null) {
      requests.onError(io.grpc.Status.CANCELLED.asRuntimeException());
      requests = null;
    }
  }

  private void onResponse(DeltaDiscoveryResponse response) {
    var type = response.getTypeUrl();
    var state = states.get(type);
    var answer =
        DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(response.getNonce());
    if (state == null) {
      send(answer.setErrorDetail(XdsStream.error("type " + type + " not subscribed")));
      return;
    }
    // A response in flight for a name just unsubscribed is dropped (item of a named type only).
    var taken = new ArrayList<Resource>();
    var sent = new LinkedHashMap<String, Any>();
    var removed = new ArrayList<>(response.getRemovedResourcesList());
    for (var r : response.getResourcesList()) {
      if (!state.wanted(r.getName())) {
        continue;
      }
      if (r.hasResource()) {
        sent.put(r.getName(), r.getResource());
        taken.add(r);
      } else {
        removed.add(r.getName()); // named without a body: it does not exist
      }
    }
    var verdict =
        source.accept(type, response.getSystemVersionInfo(), r -> r.update(type, sent, removed));
    if (verdict.applied()) {
      taken.removeIf(r -> verdict.refused().contains(r.getName()));
      state.accepted(taken, removed);
    }
    if (verdict.error() != null) {
      answer.setErrorDetail(XdsStream.error(verdict.error()));
    }
    send(answer);
    if (verdict.applied()) {
      source.accepted();
    }
  }

  private void send(DeltaDiscoveryRequest.Builder request) {
    if (requests != null) {
      requests.onNext(request.setNode(node).build());
    }
  }
}
