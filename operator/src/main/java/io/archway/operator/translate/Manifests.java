package io.archway.operator.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.crds.apisix.v1alpha1.BackendTrafficPolicy;
import io.archway.crds.apisix.v1alpha1.Consumer;
import io.archway.crds.apisix.v1alpha1.GatewayProxy;
import io.archway.crds.apisix.v1alpha1.HTTPRoutePolicy;
import io.archway.crds.apisix.v1alpha1.L4RoutePolicy;
import io.archway.crds.apisix.v1alpha1.PluginConfig;
import io.archway.crds.archway.PluginFlow;
import io.archway.crds.archway.StreamRoute;
import io.archway.model.EndpointSliceNodes;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Resources read from YAML files (several documents per file, {@code List} kinds unwrapped), for
 * {@code archway-operator translate|validate} and the translator fixtures. Also the {@link Refs}
 * those commands translate against: only what the files hold.
 */
public final class Manifests implements Refs {

  /**
   * A resource and where it was read: {@code file:document}. {@code unknownFields} are the paths in
   * its {@code spec} that its kind does not have (a typo such as {@code backend:} for {@code
   * backends:}); an API server would drop them without a word.
   */
  public record Doc(HasMetadata resource, String source, List<String> unknownFields) {
    public String describe() {
      var m = resource.getMetadata();
      return resource.getKind()
          + " "
          + (m.getNamespace() == null ? "" : m.getNamespace() + "/")
          + m.getName();
    }
  }

  /** A document that could not be read as a resource. */
  public record Unreadable(String source, String message) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  // Unknown fields are read past and reported all at once (unknownFields), not one by one.
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .configure(
              com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
              false);

  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.ofEntries(
          Map.entry("apisix.apache.org/v2/ApisixRoute", ApisixRoute.class),
          Map.entry("apisix.apache.org/v2/ApisixUpstream", ApisixUpstream.class),
          Map.entry("archway.io/v1alpha1/StreamRoute", StreamRoute.class),
          Map.entry("archway.io/v1alpha1/PluginFlow", PluginFlow.class),
          Map.entry(
              "archway.io/v1alpha1/GatewayParameters",
              io.archway.crds.archway.GatewayParameters.class),
          Map.entry("apisix.apache.org/v2/ApisixTls", io.archway.crds.apisix.ApisixTls.class),
          Map.entry(
              "apisix.apache.org/v2/ApisixConsumer", io.archway.crds.apisix.ApisixConsumer.class),
          Map.entry(
              "apisix.apache.org/v2/ApisixPluginConfig",
              io.archway.crds.apisix.ApisixPluginConfig.class),
          Map.entry(
              "apisix.apache.org/v2/ApisixGlobalRule",
              io.archway.crds.apisix.ApisixGlobalRule.class),
          Map.entry(
              "apisix.apache.org/v2/ApisixClusterConfig",
              io.archway.crds.apisix.ApisixClusterConfig.class),
          Map.entry("networking.k8s.io/v1/Ingress", Ingress.class),
          Map.entry("apisix.apache.org/v1alpha1/PluginConfig", PluginConfig.class),
          Map.entry("apisix.apache.org/v1alpha1/Consumer", Consumer.class),
          Map.entry("apisix.apache.org/v1alpha1/GatewayProxy", GatewayProxy.class),
          Map.entry("apisix.apache.org/v1alpha1/BackendTrafficPolicy", BackendTrafficPolicy.class),
          Map.entry("apisix.apache.org/v1alpha1/HTTPRoutePolicy", HTTPRoutePolicy.class),
          Map.entry("apisix.apache.org/v1alpha1/L4RoutePolicy", L4RoutePolicy.class),
          Map.entry("networking.k8s.io/v1/IngressClass", IngressClass.class),
          Map.entry(
              "gateway.networking.k8s.io/v1/HTTPRoute",
              io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute.class),
          Map.entry(
              "gateway.networking.k8s.io/v1/GRPCRoute",
              io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute.class),
          Map.entry(
              "gateway.networking.k8s.io/v1alpha2/TLSRoute",
              io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute.class),
          Map.entry(
              "gateway.networking.k8s.io/v1alpha2/TCPRoute",
              io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute.class),
          Map.entry(
              "gateway.networking.k8s.io/v1alpha2/UDPRoute",
              io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute.class),
          Map.entry(
              "gateway.networking.k8s.io/v1/Gateway",
              io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway.class),
          Map.entry(
              "gateway.networking.k8s.io/v1/GatewayClass",
              io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass.class),
          Map.entry(
              "gateway.networking.k8s.io/v1beta1/ReferenceGrant",
              io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant.class),
          Map.entry("v1/Namespace", io.fabric8.kubernetes.api.model.Namespace.class),
          Map.entry("v1/Service", Service.class),
          Map.entry("v1/Secret", Secret.class),
          Map.entry("discovery.k8s.io/v1/EndpointSlice", EndpointSlice.class),
          Map.entry("v1/Pod", io.fabric8.kubernetes.api.model.Pod.class));

  private final List<Doc> docs = new ArrayList<>();
  private final List<Unreadable> unreadable = new ArrayList<>();
  private final List<Unreadable> skipped = new ArrayList<>();
  private final String defaultNamespace;
  private final ControlPlaneDiscovery controlPlaneDiscovery;

  public Manifests(String defaultNamespace) {
    this(defaultNamespace, ControlPlaneDiscovery.OFF);
  }

  /** Resources read as an operator with that control-plane discovery setting would see them. */
  public Manifests(String defaultNamespace, ControlPlaneDiscovery controlPlaneDiscovery) {
    this.defaultNamespace = defaultNamespace;
    this.controlPlaneDiscovery = controlPlaneDiscovery;
  }

  /** Reads a file, or every {@code .yaml}/{@code .yml}/{@code .json} file under a directory. */
  public Manifests read(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      try (Stream<Path> s = Files.walk(path)) {
        for (var f :
            s.filter(Files::isRegularFile)
                .filter(p -> p.toString().matches(".*\\.(ya?ml|json)$"))
                .sorted(Comparator.naturalOrder())
                .toList()) {
          readFile(f);
        }
      }
    } else {
      readFile(path);
    }
    return this;
  }

  private void readFile(Path file) throws IOException {
    int n = 0;
    try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
      var it = YAML.readValues(parser, JsonNode.class);
      while (true) {
        n++;
        var where = file + ":" + n;
        JsonNode node;
        try {
          if (!it.hasNextValue()) {
            break;
          }
          node = it.nextValue();
        } catch (RuntimeException e) {
          unreadable.add(new Unreadable(where, "not valid YAML: " + rootMessage(e)));
          break;
        }
        add(node, where);
      }
    }
  }

  private void add(JsonNode node, String where) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return;
    }
    var kind = node.path("kind").asText("");
    if (kind.endsWith("List") && node.path("items").isArray()) {
      int i = 0;
      for (var item : node.get("items")) {
        add(item, where + ".items[" + i++ + "]");
      }
      return;
    }
    var apiVersion = node.path("apiVersion").asText("");
    var type = KINDS.get(apiVersion + "/" + kind);
    if (type == null) {
      var why = notTranslated(apiVersion, kind);
      if (why != null) {
        unreadable.add(new Unreadable(where, why));
      } else {
        // Deployments, ConfigMaps ...: not gateway resources; said so, not an error.
        skipped.add(
            new Unreadable(
                where,
                kind
                    + " ("
                    + apiVersion
                    + ") "
                    + node.path("metadata").path("name").asText("")
                    + ": skipped (not a resource Archway translates)"));
      }
      return;
    }
    if (type == IngressClass.class
        && node.path("spec").has("parameters")
        && !gatewayProxy(node.path("spec").path("parameters"))) {
      unreadable.add(
          new Unreadable(
              where,
              "IngressClass "
                  + node.path("metadata").path("name").asText("")
                  + ": spec.parameters: not supported by Archway yet (expected: none, or a"
                  + " GatewayProxy: apiGroup apisix.apache.org, kind GatewayProxy)"));
    }
    try {
      var resource = JSON.treeToValue(node, type);
      if (resource.getMetadata() == null || resource.getMetadata().getName() == null) {
        unreadable.add(new Unreadable(where, kind + ": metadata.name: missing"));
        return;
      }
      if (resource.getMetadata().getNamespace() == null
          && resource instanceof io.fabric8.kubernetes.api.model.Namespaced) {
        resource.getMetadata().setNamespace(defaultNamespace);
      }
      var unknown = new ArrayList<String>();
      if (resource instanceof io.fabric8.kubernetes.client.CustomResource<?, ?>) {
        unknownFields(node.get("spec"), JSON.valueToTree(resource).get("spec"), "spec", unknown);
      }
      docs.add(new Doc(resource, where, List.copyOf(unknown)));
    } catch (IOException | IllegalArgumentException e) {
      unreadable.add(new Unreadable(where, kind + ": " + rootMessage(e)));
    }
  }

  /** Whether IngressClass parameters name a GatewayProxy (its plugins and plugin metadata). */
  private static boolean gatewayProxy(JsonNode parameters) {
    return "apisix.apache.org".equals(parameters.path("apiGroup").asText())
        && "GatewayProxy".equals(parameters.path("kind").asText());
  }

  /** The fields of {@code raw} that did not survive reading it into its Java type. */
  private static void unknownFields(JsonNode raw, JsonNode typed, String path, List<String> out) {
    if (raw == null || typed == null) {
      return;
    }
    if (raw.isObject() && typed.isObject()) {
      for (var e : raw.properties()) {
        var back = typed.get(e.getKey());
        if (back == null) {
          if (!e.getValue().isNull()) {
            out.add(path + "." + e.getKey());
          }
        } else {
          unknownFields(e.getValue(), back, path + "." + e.getKey(), out);
        }
      }
    } else if (raw.isArray() && typed.isArray()) {
      for (int i = 0; i < Math.min(raw.size(), typed.size()); i++) {
        unknownFields(raw.get(i), typed.get(i), path + "[" + i + "]", out);
      }
    }
  }

  /** API groups whose every kind is a gateway resource: one Archway does not read is an error. */
  private static final List<String> GATEWAY_GROUPS =
      List.of("apisix.apache.org", "archway.io", "gateway.networking.k8s.io");

  /**
   * Kinds of the APISIX Ingress Controller (1.x and 2.x) that Archway does not translate yet: none
   * now; a kind added to AIC goes here until it is.
   */
  private static final List<String> AIC_KINDS = List.of();

  /**
   * Why a resource of a gateway API group is not translated, as its whole message; {@code null} for
   * a kind of another group (a Deployment), which is not Archway's to read.
   */
  static String notTranslated(String apiVersion, String kind) {
    int slash = apiVersion.indexOf('/');
    var group = slash < 0 ? "" : apiVersion.substring(0, slash);
    if (!GATEWAY_GROUPS.contains(group)) {
      return null;
    }
    var versions =
        KINDS.keySet().stream()
            .filter(k -> k.endsWith("/" + kind))
            .map(k -> k.substring(0, k.length() - kind.length() - 1))
            .sorted()
            .toList();
    var name = kind.isEmpty() ? "a resource without kind" : kind + " (" + apiVersion + ")";
    if (!versions.isEmpty()) {
      return name
          + ": version not supported by Archway (expected: apiVersion "
          + String.join(" or ", versions)
          + ")";
    }
    if (group.equals("apisix.apache.org") && AIC_KINDS.contains(kind)) {
      return name
          + ": an APISIX Ingress Controller kind Archway does not support yet (expected: one of "
          + supportedKinds()
          + ")";
    }
    return name + ": unknown kind (expected: one of " + supportedKinds() + ")";
  }

  private static String supportedKinds() {
    return String.join(
        ", ",
        KINDS.keySet().stream()
            .filter(k -> GATEWAY_GROUPS.stream().anyMatch(k::startsWith) || k.contains("Ingress"))
            .map(k -> k.substring(k.lastIndexOf('/') + 1))
            .sorted()
            .toList());
  }

  private static String rootMessage(Throwable e) {
    var m = e.getMessage() == null ? e.toString() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  public List<Doc> docs() {
    return docs;
  }

  public List<Unreadable> unreadable() {
    return unreadable;
  }

  /** Documents of kinds that are not gateway resources (Deployments ...), with what they are. */
  public List<Unreadable> skipped() {
    return skipped;
  }

  private <T extends HasMetadata> Optional<T> find(Class<T> type, String ns, String name) {
    return docs.stream()
        .map(Doc::resource)
        .filter(type::isInstance)
        .map(type::cast)
        .filter(r -> name.equals(r.getMetadata().getName()))
        .filter(r -> ns == null || ns.equals(r.getMetadata().getNamespace()))
        .findFirst();
  }

  @Override
  public Optional<Service> service(String namespace, String name) {
    return find(Service.class, namespace, name);
  }

  @Override
  public Optional<Secret> secret(String namespace, String name) {
    return find(Secret.class, namespace, name);
  }

  @Override
  public Optional<ApisixUpstream> apisixUpstream(String namespace, String name) {
    return find(ApisixUpstream.class, namespace, name);
  }

  @Override
  public Optional<PluginFlow> pluginFlow(String namespace, String name) {
    return find(PluginFlow.class, namespace, name);
  }

  @Override
  public Optional<GatewayProxy> gatewayProxy(String namespace, String name) {
    return find(GatewayProxy.class, namespace, name);
  }

  @Override
  public Optional<io.archway.crds.archway.GatewayParameters> gatewayParameters(
      String namespace, String name) {
    return find(io.archway.crds.archway.GatewayParameters.class, namespace, name);
  }

  @Override
  public List<io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant> referenceGrants(
      String namespace) {
    return all(io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant.class, namespace);
  }

  @Override
  public List<BackendTrafficPolicy> backendTrafficPolicies(String namespace) {
    return all(BackendTrafficPolicy.class, namespace);
  }

  @Override
  public List<HTTPRoutePolicy> httpRoutePolicies(String namespace) {
    return all(HTTPRoutePolicy.class, namespace);
  }

  @Override
  public List<io.archway.crds.apisix.v1alpha1.L4RoutePolicy> l4RoutePolicies(String namespace) {
    return all(io.archway.crds.apisix.v1alpha1.L4RoutePolicy.class, namespace);
  }

  private <T extends HasMetadata> List<T> all(Class<T> type, String ns) {
    return docs.stream()
        .map(Doc::resource)
        .filter(type::isInstance)
        .map(type::cast)
        .filter(r -> ns.equals(r.getMetadata().getNamespace()))
        .toList();
  }

  @Override
  public Optional<io.archway.crds.apisix.ApisixPluginConfig> apisixPluginConfig(
      String namespace, String name) {
    return find(io.archway.crds.apisix.ApisixPluginConfig.class, namespace, name);
  }

  @Override
  public Optional<PluginConfig> pluginConfig(String namespace, String name) {
    return find(PluginConfig.class, namespace, name);
  }

  @Override
  public Optional<io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway> gateway(
      String namespace, String name) {
    return find(io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway.class, namespace, name);
  }

  @Override
  public Optional<io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass> gatewayClass(
      String name) {
    return find(io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass.class, null, name);
  }

  @Override
  public Optional<io.fabric8.kubernetes.api.model.Namespace> namespace(String name) {
    return find(io.fabric8.kubernetes.api.model.Namespace.class, null, name);
  }

  @Override
  public ControlPlaneDiscovery controlPlaneDiscovery() {
    return controlPlaneDiscovery;
  }

  @Override
  public List<EndpointSliceNodes.Slice> endpointSlices(String namespace, String service) {
    return docs.stream()
        .map(Doc::resource)
        .filter(EndpointSlice.class::isInstance)
        .filter(r -> namespace.equals(r.getMetadata().getNamespace()))
        .filter(
            r ->
                r.getMetadata().getLabels() != null
                    && service.equals(
                        r.getMetadata().getLabels().get("kubernetes.io/service-name")))
        .map(r -> EndpointSliceNodes.slice(JSON.valueToTree(r)))
        .toList();
  }

  @Override
  public Map<String, String> podLabels(String namespace, String pod) {
    return find(io.fabric8.kubernetes.api.model.Pod.class, namespace, pod)
        .map(p -> p.getMetadata().getLabels())
        .orElse(null);
  }

  @Override
  public boolean offline() {
    return true;
  }
}
