package io.archway.operator.translate;

import io.archway.crds.archway.GatewayParametersSpec;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Service Archway keeps per Gateway when the Gateway's parameters ({@link
 * GatewayParametersTranslator#effective}) have a {@code service}: {@code <gateway>-archway} in the
 * Gateway's namespace, owned by the Gateway, selecting the dataplane pods, one port per distinct
 * port and transport of the listeners served (TCP for HTTP, HTTPS, TLS and TCP; UDP for UDP), each
 * to where the dataplane binds it (port + 10000 below 1024 unless it may bind privileged ports).
 * The Gateway's {@code status.addresses} then come from it ({@link #addresses}). Pure: the
 * operator's {@code GatewayServices} creates, updates and deletes it.
 */
public final class GatewayServiceTranslator {

  private GatewayServiceTranslator() {}

  /** The label every Service of Archway's per Gateway carries (the Gateway's name). */
  public static final String GATEWAY_LABEL = "gateway.networking.k8s.io/gateway-name";

  /** The label that says the operator manages the Service. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  public static final String MANAGED_BY = "archway-operator";

  /**
   * How the dataplane runs, as the Service in front of it must know.
   *
   * @param selector the labels of the dataplane pods (the chart's dataplane Service's selector)
   * @param privilegedPorts whether the dataplane binds ports below 1024 as they are ({@code
   *     --privileged-ports}); otherwise at port + 10000
   */
  public record Dataplane(Map<String, String> selector, boolean privilegedPorts) {

    /** The chart's, for a release named {@code archway} (as {@code manifests/install.yaml}). */
    public static final Map<String, String> DEFAULT_SELECTOR =
        Map.of(
            "app.kubernetes.io/name", "archway",
            "app.kubernetes.io/instance", "archway",
            "app.kubernetes.io/component", "dataplane");

    public static final Dataplane DEFAULT = new Dataplane(DEFAULT_SELECTOR, false);

    public Dataplane {
      selector = Map.copyOf(selector);
    }
  }

  /**
   * The Service's name: {@code <gateway>-archway}, a DNS label (dots become dashes; a long name is
   * shortened with a hash of it so that two Gateways keep two Services).
   */
  public static String name(String gateway) {
    var base = gateway.replace('.', '-');
    if (!Character.isLetter(base.charAt(0))) {
      base = "gw-" + base;
    }
    var suffix = "-archway";
    if (base.length() + suffix.length() <= 63) {
      return base + suffix;
    }
    var hash =
        Integer.toHexString(
            java.util.Arrays.hashCode(gateway.getBytes(StandardCharsets.UTF_8)) & 0x7fffffff);
    var keep = 63 - suffix.length() - hash.length() - 1;
    var head = base.substring(0, keep).replaceAll("-+$", "");
    return head + "-" + hash + suffix;
  }

  /** Where the dataplane binds a listener's port. */
  public static int targetPort(int port, boolean privilegedPorts) {
    return port < 1024 && !privilegedPorts ? port + 10000 : port;
  }

  /**
   * The Service the Gateway should have; {@code null} when it should have none (its parameters have
   * no {@code service}, or none of its listeners is served).
   *
   * @param status the Gateway's status as {@link GatewayTranslator} computed it: the listeners
   *     {@code Programmed} there get ports
   */
  public static Service service(
      Gateway gw, GatewayParametersSpec params, GatewayStatus status, Dataplane dataplane) {
    if (params == null || params.service == null) {
      return null;
    }
    var ports = ports(gw, status, dataplane.privilegedPorts());
    if (ports.isEmpty()) {
      return null;
    }
    var s = params.service;
    var infra = gw.getSpec() == null ? null : gw.getSpec().getInfrastructure();
    var labels = new LinkedHashMap<String, String>();
    putAll(labels, s.labels);
    putAll(labels, infra == null ? null : infra.getLabels());
    labels.put(GATEWAY_LABEL, gw.getMetadata().getName());
    labels.put(MANAGED_BY_LABEL, MANAGED_BY);
    var annotations = new LinkedHashMap<String, String>();
    putAll(annotations, s.annotations);
    putAll(annotations, infra == null ? null : infra.getAnnotations());
    var type = s.type == null ? "LoadBalancer" : s.type;
    var spec =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name(gw.getMetadata().getName()))
            .withNamespace(gw.getMetadata().getNamespace())
            .withLabels(labels)
            .withAnnotations(annotations.isEmpty() ? null : annotations)
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion(GatewayApi.GROUP + "/v1")
                    .withKind("Gateway")
                    .withName(gw.getMetadata().getName())
                    .withUid(gw.getMetadata().getUid())
                    .withController(true)
                    .build())
            .endMetadata()
            .withNewSpec()
            .withType(type)
            .withSelector(new TreeMap<>(dataplane.selector()))
            .withPorts(ports)
            .endSpec()
            .build();
    var sp = spec.getSpec();
    if (!type.equals("ClusterIP")) {
      // Cluster is the API server's default: set, so that removing Local from the parameters
      // brings it back.
      sp.setExternalTrafficPolicy(
          s.externalTrafficPolicy == null ? "Cluster" : s.externalTrafficPolicy);
    }
    if (type.equals("LoadBalancer")) {
      sp.setLoadBalancerClass(s.loadBalancerClass);
      if (s.loadBalancerSourceRanges != null && !s.loadBalancerSourceRanges.isEmpty()) {
        sp.setLoadBalancerSourceRanges(List.copyOf(s.loadBalancerSourceRanges));
      }
      var requested = gw.getSpec().getAddresses();
      if (requested != null) {
        requested.stream()
            .filter(a -> a.getType() == null || "IPAddress".equals(a.getType()))
            .findFirst()
            .ifPresent(a -> sp.setLoadBalancerIP(a.getValue()));
      }
    }
    return spec;
  }

  /** One port per distinct port and transport of the served listeners, by port then transport. */
  static List<ServicePort> ports(Gateway gw, GatewayStatus status, boolean privilegedPorts) {
    var served = new java.util.HashSet<String>();
    if (status != null && status.getListeners() != null) {
      for (var l : status.getListeners()) {
        if (l.getConditions().stream()
            .anyMatch(
                c -> GatewayApi.PROGRAMMED.equals(c.getType()) && "True".equals(c.getStatus()))) {
          served.add(l.getName());
        }
      }
    }
    var distinct = new TreeMap<String, ServicePort>();
    var listeners = gw.getSpec() == null ? null : gw.getSpec().getListeners();
    for (var l :
        listeners == null
            ? List.<io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener>of()
            : listeners) {
      if (!served.contains(l.getName()) || l.getPort() == null) {
        continue;
      }
      var transport = "UDP".equals(l.getProtocol()) ? "UDP" : "TCP";
      var name = transport.toLowerCase(java.util.Locale.ROOT) + "-" + l.getPort();
      distinct.putIfAbsent(
          String.format("%05d/%s", l.getPort(), transport),
          new ServicePortBuilder()
              .withName(name)
              .withProtocol(transport)
              .withPort(l.getPort())
              .withTargetPort(new IntOrString(targetPort(l.getPort(), privilegedPorts)))
              .build());
    }
    return new ArrayList<>(distinct.values());
  }

  /**
   * A Service's addresses as a Gateway reports them: its load balancer's ingress IPs and hostnames,
   * else its external IPs, else its cluster IP ({@link #ingress}).
   */
  public static List<GatewayStatusAddress> addresses(Service s) {
    var out = new ArrayList<GatewayStatusAddress>();
    for (var lb : ingress(s)) {
      if (lb.getIp() != null) {
        out.add(new GatewayStatusAddress("IPAddress", lb.getIp()));
      } else if (lb.getHostname() != null) {
        out.add(new GatewayStatusAddress("Hostname", lb.getHostname()));
      }
    }
    return out;
  }

  /**
   * Where a Service is reached (Gateway and Ingress status alike): its load balancer's ingress
   * points, else its external IPs, else its cluster IP.
   */
  public static List<LoadBalancerIngress> ingress(Service s) {
    var out = new ArrayList<LoadBalancerIngress>();
    if (s.getStatus() != null
        && s.getStatus().getLoadBalancer() != null
        && s.getStatus().getLoadBalancer().getIngress() != null) {
      out.addAll(s.getStatus().getLoadBalancer().getIngress());
    }
    var spec = s.getSpec();
    if (out.isEmpty() && spec != null && spec.getExternalIPs() != null) {
      spec.getExternalIPs()
          .forEach(ip -> out.add(new LoadBalancerIngressBuilder().withIp(ip).build()));
    }
    if (out.isEmpty()
        && spec != null
        && spec.getClusterIP() != null
        && !spec.getClusterIP().isEmpty()
        && !"None".equals(spec.getClusterIP())) {
      out.add(new LoadBalancerIngressBuilder().withIp(spec.getClusterIP()).build());
    }
    return out;
  }

  private static void putAll(Map<String, String> into, Map<String, String> from) {
    if (from != null) {
      into.putAll(from);
    }
  }
}
