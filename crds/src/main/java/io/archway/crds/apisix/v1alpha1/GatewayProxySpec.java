package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The settings of a {@link GatewayProxy}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GatewayProxySpec {

  @JsonPropertyDescription(
      "The LoadBalancer Service whose address goes into Ingress status. Archway takes it from"
          + " the operator's --publish-service option instead.")
  public String publishService;

  @JsonPropertyDescription(
      "Addresses for Ingress status. Archway takes them from the operator's --publish-service"
          + " option instead.")
  public List<String> statusAddress;

  @JsonPropertyDescription(
      "Where the APISIX Ingress Controller sends its configuration. Not used by Archway, whose"
          + " operator writes etcd, which its dataplane watches.")
  public Provider provider;

  @JsonPropertyDescription("Plugins run on every request (a global rule).")
  public List<GatewayProxyPlugin> plugins;

  @JsonPropertyDescription(
      "Settings shared by every use of a plugin, by plugin name (plugin_metadata).")
  @PreserveUnknownFields
  public JsonNode pluginMetadata;

  /** {@code provider}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Provider {
    @JsonPropertyDescription("ControlPlane.")
    @Required
    public String type;

    @JsonPropertyDescription("The Admin API the APISIX Ingress Controller calls.")
    public ControlPlane controlPlane;
  }

  /** {@code provider.controlPlane}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ControlPlane {
    @JsonPropertyDescription("apisix or apisix-standalone.")
    public String mode;

    @JsonPropertyDescription("Admin API URLs.")
    public List<String> endpoints;

    @JsonPropertyDescription("A Service in front of the Admin API.")
    public ProviderService service;

    @JsonPropertyDescription("Whether the Admin API's certificate is verified.")
    public Boolean tlsVerify;

    @JsonPropertyDescription("How the Admin API is authenticated to.")
    public Auth auth;
  }

  /** {@code provider.controlPlane.service}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ProviderService {
    @JsonPropertyDescription("The Service's name.")
    @Required
    public String name;

    @JsonPropertyDescription("The Service's port.")
    @Min(1)
    @Max(65535)
    public Integer port;
  }

  /** {@code provider.controlPlane.auth}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Auth {
    @JsonPropertyDescription("AdminKey.")
    @Required
    public String type;

    @JsonPropertyDescription("The admin key, as a value or from a Secret.")
    public AdminKey adminKey;
  }

  /** {@code auth.adminKey}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AdminKey {
    @JsonPropertyDescription("The key itself.")
    public String value;

    @JsonPropertyDescription("Where to read the key.")
    public ValueFrom valueFrom;
  }

  /** {@code adminKey.valueFrom}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ValueFrom {
    @JsonPropertyDescription("A key of a Secret in the GatewayProxy's namespace.")
    public SecretKeyRef secretKeyRef;
  }

  /** {@code valueFrom.secretKeyRef}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretKeyRef {
    @JsonPropertyDescription("The Secret's name.")
    @Required
    public String name;

    @JsonPropertyDescription("The key in the Secret.")
    @Required
    public String key;
  }

  /** A global plugin. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class GatewayProxyPlugin {
    @JsonPropertyDescription("The plugin's name.")
    public String name;

    @JsonPropertyDescription("Whether the plugin runs; only enabled plugins do.")
    public Boolean enabled;

    @JsonPropertyDescription("The plugin's configuration.")
    @PreserveUnknownFields
    public JsonNode config;
  }
}
