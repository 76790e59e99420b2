package io.archway.crds.apisix.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.archway.crds.Plugin;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The credentials and plugins of a {@link Consumer}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConsumerSpec {

  @JsonPropertyDescription(
      "The Gateway (Gateway API) the consumer belongs to. Archway serves one data plane per"
          + " operator: the consumer is served by all its routes.")
  public GatewayRef gatewayRef;

  @JsonPropertyDescription("The consumer's credentials, one per auth plugin type.")
  public List<Credential> credentials;

  @JsonPropertyDescription("Plugins run for requests of this consumer.")
  public List<Plugin> plugins;

  /** {@code gatewayRef}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class GatewayRef {
    @JsonPropertyDescription("The Gateway's name.")
    @Required
    public String name;

    @JsonPropertyDescription("The kind; Gateway by default.")
    public String kind;

    @JsonPropertyDescription("The API group; gateway.networking.k8s.io by default.")
    public String group;

    @JsonPropertyDescription("The Gateway's namespace; the consumer's by default.")
    public String namespace;
  }

  /** One credential. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Credential {
    @JsonPropertyDescription("The auth plugin: key-auth, basic-auth, jwt-auth or hmac-auth.")
    @Required
    public String type;

    @JsonPropertyDescription("The credential's fields, as the auth plugin takes them.")
    @PreserveUnknownFields
    public JsonNode config;

    @JsonPropertyDescription("A Secret holding the credential's fields, one data key per field.")
    public SecretRef secretRef;

    @JsonPropertyDescription("The credential's name (its id under the consumer).")
    public String name;
  }

  /** A Secret. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretRef {
    @JsonPropertyDescription("The Secret's name.")
    @Required
    public String name;

    @JsonPropertyDescription("The Secret's namespace; the consumer's by default.")
    public String namespace;
  }
}
