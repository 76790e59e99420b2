package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointSliceNodesTest {

  /** A slice of port {@code http: 8080} with these endpoints (JSON list items). */
  private static EndpointSliceNodes.Slice slice(String endpoints) throws Exception {
    return EndpointSliceNodes.slice(
        ModelJson.mapper()
            .readTree(
                "{\"ports\":[{\"name\":\"http\",\"port\":8080}],\"endpoints\":["
                    + endpoints
                    + "]}"));
  }

  private static List<String> hosts(List<EndpointSliceNodes.Slice> slices) {
    return EndpointSliceNodes.nodes(slices, "http", null).stream().map(UpstreamNode::host).toList();
  }

  private static String endpoint(String address, String conditions) {
    return "{\"addresses\":[\"" + address + "\"],\"conditions\":" + conditions + "}";
  }

  @Test
  void readyEndpointsAreTheNodesAndTerminatingOnesDrain() throws Exception {
    var s =
        slice(
            String.join(
                ",",
                endpoint("10.0.0.1", "{\"ready\":true}"),
                endpoint("10.0.0.2", "{}"),
                endpoint("10.0.0.3", "{\"ready\":false}"),
                endpoint("10.0.0.4", "{\"ready\":false,\"serving\":true,\"terminating\":true}")));
    assertThat(hosts(List.of(s))).containsExactly("10.0.0.1", "10.0.0.2");
  }

  @Test
  void withNoReadyEndpointTheServingTerminatingOnesServe() throws Exception {
    // One replica rolled with maxSurge 0: the old pod is in its preStop sleep, the new one not
    // ready yet. kube-proxy keeps sending to the old one; so do both discovery modes.
    var s =
        slice(
            String.join(
                ",",
                endpoint("10.0.0.3", "{\"ready\":false,\"serving\":false}"),
                endpoint("10.0.0.4", "{\"ready\":false,\"serving\":true,\"terminating\":true}"),
                endpoint("10.0.0.5", "{\"ready\":false,\"serving\":false,\"terminating\":true}"),
                endpoint("10.0.0.6", "{\"ready\":false,\"terminating\":true}")));
    assertThat(hosts(List.of(s))).containsExactly("10.0.0.4");
  }

  @Test
  void aReadyEndpointInAnotherSliceEndsTheFallBack() throws Exception {
    var terminating =
        slice(endpoint("10.0.0.4", "{\"ready\":false,\"serving\":true,\"terminating\":true}"));
    var ready = slice(endpoint("10.0.0.7", "{\"ready\":true}"));
    assertThat(hosts(List.of(terminating, ready))).containsExactly("10.0.0.7");
  }

  @Test
  void theFallBackKeepsToTheSubset() throws Exception {
    var s =
        EndpointSliceNodes.slice(
            ModelJson.mapper()
                .readTree(
                    """
                    {"ports": [{"name": "http", "port": 8080}], "endpoints": [
                      {"addresses": ["10.0.0.4"], "targetRef": {"kind": "Pod", "name": "v1-a"},
                       "conditions": {"ready": false, "serving": true, "terminating": true}},
                      {"addresses": ["10.0.0.5"], "targetRef": {"kind": "Pod", "name": "v2-a"},
                       "conditions": {"ready": false, "serving": true, "terminating": true}},
                      {"addresses": ["10.0.0.6"], "targetRef": {"kind": "Pod", "name": "v2-b"},
                       "conditions": {"ready": true}}]}
                    """));
    assertThat(EndpointSliceNodes.nodes(List.of(s), "http", null, pod -> pod.startsWith("v1-")))
        .extracting(UpstreamNode::host)
        .containsExactly("10.0.0.4");
  }
}
