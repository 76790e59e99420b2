package io.archway.dataplane.config.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.archway.model.BuildInfo;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node an xDS client says it is, as Istio's pilot-agent builds it for a gateway: id {@code
 * router~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local}, cluster the gateway's name, and metadata
 * {@code ISTIO_VERSION}, {@code CLUSTER_ID}, {@code NAMESPACE}, {@code NAME}, {@code LABELS}
 * (istiod picks the Gateway resources whose selector matches them). As with pilot-agent, every
 * {@code ISTIO_META_<KEY>} environment variable becomes metadata {@code <KEY>}, and {@code
 * ISTIO_METAJSON_<KEY>} a JSON value (e.g. {@code ISTIO_METAJSON_LABELS='{"istio":
 * "ingressgateway"}'}).
 */
public final class XdsNode {

  private XdsNode() {}

  /**
   * The node from the Downward API's environment ({@code POD_NAME}, {@code POD_NAMESPACE}, {@code
   * INSTANCE_IP}) and the {@code ISTIO_META_*} variables; {@code id} and {@code cluster} override
   * the derived ones when not {@code null}.
   *
   * @throws IllegalArgumentException naming the variable whose JSON does not parse
   */
  public static Node of(String id, String cluster, Map<String, String> env) {
    var ns = env.getOrDefault("POD_NAMESPACE", "istio-system");
    var pod = env.getOrDefault("POD_NAME", "archway");
    var ip = env.getOrDefault("INSTANCE_IP", "127.0.0.1");
    var meta = new TreeMap<String, Value>();
    meta.put("NAMESPACE", text(ns));
    meta.put("NAME", text(pod));
    meta.put("CLUSTER_ID", text("Kubernetes"));
    meta.put("ISTIO_VERSION", text(env.getOrDefault("ISTIO_VERSION", "1.24.0")));
    meta.put("SERVICE_ACCOUNT", text(env.getOrDefault("SERVICE_ACCOUNT", "archway")));
    for (var e : new TreeMap<>(env).entrySet()) {
      if (e.getKey().startsWith("ISTIO_META_")) {
        meta.put(e.getKey().substring("ISTIO_META_".length()), text(e.getValue()));
      } else if (e.getKey().startsWith("ISTIO_METAJSON_")) {
        var v = Value.newBuilder();
        try {
          JsonFormat.parser().merge(e.getValue(), v);
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
          throw new IllegalArgumentException(
              e.getKey() + ": not JSON (" + ex.getMessage() + ")", ex);
        }
        meta.put(e.getKey().substring("ISTIO_METAJSON_".length()), v.build());
      }
    }
    var nodeId =
        id != null ? id : "router~" + ip + "~" + pod + "." + ns + "~" + ns + ".svc.cluster.local";
    return Node.newBuilder()
        .setId(nodeId)
        .setCluster(cluster != null ? cluster : "istio-ingressgateway")
        .setUserAgentName("archway")
        .setUserAgentVersion(BuildInfo.current().version())
        .setMetadata(Struct.newBuilder().putAllFields(meta))
        .build();
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static Map<String, Value> metadata(Node node) {
    return node.getMetadata().getFieldsMap();
  }
}
