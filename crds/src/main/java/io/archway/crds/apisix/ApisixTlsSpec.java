package io.archway.crds.apisix;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** The names, the Secret that holds their certificate, and client verification. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ApisixTlsSpec {

  @JsonPropertyDescription("The IngressClass that serves it; the operator's own when empty.")
  public String ingressClassName;

  @JsonPropertyDescription("Host names the certificate is served for (wildcards: *.example.com).")
  @Required
  public List<String> hosts;

  @JsonPropertyDescription(
      "The kubernetes.io/tls Secret with the certificate (tls.crt) and its key (tls.key).")
  @Required
  public ApisixUpstreamSpec.SecretReference secret;

  @JsonPropertyDescription("Client certificate verification (mTLS).")
  public Client client;

  /** {@code client}: the authorities client certificates must chain to. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Client {
    @JsonPropertyDescription("The Secret with the authorities' certificates (ca.crt).")
    @Required
    public ApisixUpstreamSpec.SecretReference caSecret;

    /** 0 is the APISIX Ingress Controller's unset value (omitempty there): the default, 1. */
    @JsonPropertyDescription(
        "How many certificates may stand above the client's, up to the authority (default 1, also"
            + " when 0).")
    @Min(0)
    @Max(64)
    public Integer depth;

    @JsonPropertyDescription("Request paths (regular expressions) that need no client certificate.")
    @JsonProperty("skip_mtls_uri_regex")
    public List<String> skipMtlsUriRegex;
  }
}
