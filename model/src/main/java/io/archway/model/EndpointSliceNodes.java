package io.archway.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;

/**
 * Which endpoints of a Kubernetes Service get traffic, as upstream nodes: the rule both discovery
 * modes share (the dataplane following EndpointSlices itself, the operator writing nodes into
 * etcd). Kept free of Kubernetes client types, so the model does not depend on them: each side
 * hands over its EndpointSlices in these records.
 *
 * <p>A ready endpoint is a node for each of its addresses (both families of a dual-stack Service);
 * an endpoint that is not ready, or terminating, is left out so it drains. When no endpoint is
 * ready, the terminating endpoints that are still serving are the nodes instead, as kube-proxy does
 * (KEP-1669): a Deployment of one replica rolled with {@code maxSurge: 0}, or a pod evicted before
 * its replacement is ready, keeps being served through its old pod's preStop sleep rather than
 * answered 503. The port is the slice port of the Service port's name ({@code ""} for an unnamed
 * port).
 */
public final class EndpointSliceNodes {

  /** The weight of a discovered node: all equal, as the Service's own balancing has them. */
  public static final int WEIGHT = 100;

  private EndpointSliceNodes() {}

  /** An EndpointSlice: its ports and endpoints. */
  public record Slice(List<Port> ports, List<Endpoint> endpoints) {}

  /** A slice port: its name ({@code ""} when unnamed) and number (the pods' port). */
  public record Port(String name, int port) {}

  /**
   * An endpoint: its addresses, conditions ({@code null} ready means ready, {@code null} serving
   * means as ready) and the Pod behind it ({@code null} when it is not a Pod).
   */
  public record Endpoint(
      List<String> addresses, Boolean ready, Boolean serving, Boolean terminating, String pod) {}

  /**
   * An EndpointSlice from its JSON ({@code discovery.k8s.io/v1}), as a Kubernetes client serialises
   * it: {@code ports[{name, port}]}, {@code endpoints[{addresses, conditions{ready,
   * terminating}}]}.
   */
  public static Slice slice(JsonNode json) {
    var ports = new ArrayList<Port>();
    for (var p : json.path("ports")) {
      if (p.path("port").isInt()) {
        ports.add(new Port(p.path("name").asText(""), p.path("port").intValue()));
      }
    }
    var endpoints = new ArrayList<Endpoint>();
    for (var e : json.path("endpoints")) {
      var addresses = new ArrayList<String>();
      e.path("addresses").forEach(a -> addresses.add(a.asText()));
      var c = e.path("conditions");
      var ref = e.path("targetRef");
      endpoints.add(
          new Endpoint(
              addresses,
              c.path("ready").isBoolean() ? c.path("ready").booleanValue() : null,
              c.path("serving").isBoolean() ? c.path("serving").booleanValue() : null,
              c.path("terminating").isBoolean() ? c.path("terminating").booleanValue() : null,
              "Pod".equals(ref.path("kind").asText()) ? ref.path("name").asText(null) : null));
    }
    return new Slice(ports, endpoints);
  }

  /**
   * The nodes of {@code slices} for the Service port named {@code portName}; when that is {@code
   * null} (the Service is not known), the slice port numbered {@code portNumber}.
   */
  public static List<UpstreamNode> nodes(List<Slice> slices, String portName, Integer portNumber) {
    return nodes(slices, portName, portNumber, null);
  }

  /**
   * As {@link #nodes(List, String, Integer)}, keeping only endpoints whose Pod {@code pods} accepts
   * (a subset: the Pods that carry its labels); {@code null} keeps all.
   */
  public static List<UpstreamNode> nodes(
      List<Slice> slices,
      String portName,
      Integer portNumber,
      java.util.function.Predicate<String> pods) {
    var out = collect(slices, portName, portNumber, pods, false);
    return out.isEmpty() ? collect(slices, portName, portNumber, pods, true) : out;
  }

  /**
   * The nodes of the ready endpoints, or ({@code terminating}) of the terminating endpoints still
   * serving.
   */
  private static List<UpstreamNode> collect(
      List<Slice> slices,
      String portName,
      Integer portNumber,
      java.util.function.Predicate<String> pods,
      boolean terminating) {
    var out = new ArrayList<UpstreamNode>();
    var seen = new HashSet<String>();
    for (var slice : slices) {
      Integer port = null;
      for (var p : slice.ports()) {
        var name = p.name() == null ? "" : p.name();
        if (portName != null
            ? portName.equals(name)
            : portNumber != null && portNumber == p.port()) {
          port = p.port();
          break;
        }
      }
      if (port == null) {
        continue;
      }
      for (var ep : slice.endpoints()) {
        if (!(terminating ? servingTerminating(ep) : ready(ep)) || ep.addresses() == null) {
          continue;
        }
        if (pods != null && (ep.pod() == null || !pods.test(ep.pod()))) {
          continue;
        }
        for (var address : ep.addresses()) {
          if (seen.add(address + "|" + port)) {
            out.add(new UpstreamNode(address, port, WEIGHT, null, null));
          }
        }
      }
    }
    out.sort(Comparator.comparing(UpstreamNode::host).thenComparing(UpstreamNode::port));
    return List.copyOf(out);
  }

  private static boolean ready(Endpoint ep) {
    return (ep.ready() == null || ep.ready()) && !Boolean.TRUE.equals(ep.terminating());
  }

  private static boolean servingTerminating(Endpoint ep) {
    var serving = ep.serving() != null ? ep.serving() : ep.ready();
    return Boolean.TRUE.equals(ep.terminating()) && Boolean.TRUE.equals(serving);
  }
}
