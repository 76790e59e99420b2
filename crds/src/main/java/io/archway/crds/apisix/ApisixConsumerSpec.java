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

  @JsonPropertyDescription(
      "Credentials, by auth plugin: keyAuth, basicAuth, jwtAuth, hmacAuth, ldapAuth, wolfRBAC.")
  @Required
  public AuthParameter authParameter;

  /**
   * Plugins run for this consumer once it is authenticated (limit-count, response-rewrite ...), as
   * APISIX's consumer {@code plugins}: each with its config, optionally merged with a Secret's
   * keys. Archway's addition; the controller's ApisixConsumer has only credentials.
   */
  @JsonPropertyDescription(
      "Plugins run for this consumer once authenticated: name, enable, config, secretRef.")
  public java.util.List<io.archway.crds.Plugin> plugins;

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
        "hmac-auth: value {key_id, secret_key} (or APISIX 2.x's access_key, secret_key,"
            + " algorithm, ...), or secretRef.")
    public Credentials hmacAuth;

    @JsonPropertyDescription("ldap-auth: value {user_dn}, or secretRef to a Secret with it.")
    public Credentials ldapAuth;

    @JsonPropertyDescription("wolf-rbac: value {server, appid, header_prefix}, or secretRef.")
    public Credentials wolfRBAC;
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
