package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.generator.annotation.Required;

/** The consumer's credentials, one set per auth plugin. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApisixConsumerSpec {

  @JsonPropertyDescription("The IngressClass that serves it; the operator's own when empty.")
  public String ingressClassName;

  @JsonPropertyDescription("Credentials, by auth plugin: keyAuth, basicAuth, jwtAuth, hmacAuth.")
  @Required
  public AuthParameter authParameter;

  /** {@code authParameter}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AuthParameter {
    @JsonPropertyDescription("key-auth: value {key}, or secretRef to a Secret with key.")
    public Credentials keyAuth;

    @JsonPropertyDescription(
        "basic-auth: value {username, password}, or secretRef to a Secret with them.")
    public Credentials basicAuth;

    @JsonPropertyDescription(
        "jwt-auth: value {key, secret, algorithm, exp, public_key, base64_secret}, or secretRef.")
    public Credentials jwtAuth;

    @JsonPropertyDescription(
        "hmac-auth: value {key_id, secret_key}, or secretRef to a Secret with them.")
    public Credentials hmacAuth;
  }

  /** Credentials as values, or in a Secret of the consumer's namespace. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Credentials {
    @JsonPropertyDescription("The credentials themselves.")
    @PreserveUnknownFields
    public JsonNode value;

    @JsonPropertyDescription("A Secret holding the credentials, one data key per field.")
    public SecretRef secretRef;
  }

  /** A Secret in the consumer's namespace. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretRef {
    @JsonPropertyDescription("The Secret's name.")
    @Required
    public String name;
  }
}
