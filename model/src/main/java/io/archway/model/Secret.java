package io.archway.model;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A secret manager's settings (APISIX 3.x {@code /apisix/secrets/<manager>/<id>}; the standalone
 * file's {@code secrets:} section with ids {@code <manager>/<id>}): where {@code
 * $secret://<manager>/<id>/<path>/<key>} references in plugin configurations are read from.
 *
 * <ul>
 *   <li>{@code vault}: {@code uri}, {@code prefix}, {@code token} (may be {@code $env://NAME}),
 *       {@code namespace}; {@code GET {uri}/v1/{prefix}/{path}}, the key read from a KV v1 answer
 *       or a KV v2 one (a prefix such as {@code secret/data/apisix}).
 *   <li>{@code aws}: {@code access_key_id}, {@code secret_access_key}, {@code session_token},
 *       {@code region} (default {@code us-east-1}), {@code endpoint_url}; Secrets Manager's
 *       GetSecretValue of {@code <path>}, the key read from its JSON {@code SecretString}.
 *   <li>{@code gcp}: {@code auth_config} (a service account: {@code client_email}, {@code
 *       private_key}, {@code project_id}, {@code token_uri}, {@code scopes}, {@code entries_uri})
 *       or {@code auth_file} (its JSON key file), {@code ssl_verify}; Secret Manager's access of
 *       {@code projects/<project>/secrets/<path>/versions/latest}, the key read from the JSON
 *       object of its payload.
 * </ul>
 *
 * Credentials are kept as given and never put into a message.
 */
public record Secret(
    String id,
    String uri,
    String prefix,
    String token,
    String namespace,
    String accessKeyId,
    String secretAccessKey,
    String sessionToken,
    String region,
    String endpointUrl,
    GcpAuth authConfig,
    String authFile,
    Boolean sslVerify,
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  /** Google Cloud's token endpoint, the default {@code token_uri}. */
  public static final String GCP_TOKEN_URI = "https://oauth2.googleapis.com/token";

  /** Secret Manager's API, the default {@code entries_uri}. */
  public static final String GCP_ENTRIES_URI = "https://secretmanager.googleapis.com/v1/";

  /**
   * A gcp manager's service account (APISIX's {@code auth_config}, the fields of a key file).
   *
   * @param scopes space-separated, as APISIX's schema has it
   */
  public record GcpAuth(
      String clientEmail,
      String privateKey,
      String projectId,
      String tokenUri,
      String scopes,
      String entriesUri) {

    /** Names the account only: the key stays out of messages. */
    @Override
    public String toString() {
      return "GcpAuth[" + clientEmail + ", " + projectId + "]";
    }

    static GcpAuth read(Fields f, String path) {
      var any = Fields.Check.length(1, Integer.MAX_VALUE);
      var url = Fields.Check.pattern(Pattern.compile("^https?://.+"));
      f.required("client_email", "the service account's email");
      f.required("private_key", "the service account's PEM private key");
      f.required("project_id", "the Google Cloud project id");
      return new GcpAuth(
          f.string("client_email", any),
          f.secret("private_key", any),
          f.string("project_id", any),
          Objects.requireNonNullElse(f.string("token_uri", url), GCP_TOKEN_URI),
          Objects.requireNonNullElse(
              f.string("scopes", any), "https://www.googleapis.com/auth/cloud-platform"),
          Objects.requireNonNullElse(f.string("entries_uri", url), GCP_ENTRIES_URI));
    }
  }

  /** {@code <manager>/<id>}. */
  public static final Pattern ID = Pattern.compile("^(vault|aws|gcp)/([a-zA-Z0-9-_.]{1,64})$");

  /** Names the manager only: a record would print its token and keys. */
  @Override
  public String toString() {
    return "Secret[" + id + "]";
  }

  /** {@code vault}, {@code aws} or {@code gcp}. */
  public String manager() {
    return id.substring(0, id.indexOf('/'));
  }

  private static final String[] VAULT_FIELDS = {"uri", "prefix", "token", "namespace"};
  private static final String[] AWS_FIELDS = {
    "access_key_id", "secret_access_key", "session_token", "region", "endpoint_url"
  };
  private static final String[] GCP_FIELDS = {"auth_config", "auth_file", "ssl_verify"};

  static Secret read(Fields f, String path) {
    var id = f.string("id");
    var m = id == null ? null : ID.matcher(id);
    String manager = null;
    if (id != null && !m.matches()) {
      f.problem("id", "\"" + id + "\" (expected: <manager>/<id>, manager one of vault, aws, gcp)");
      id = null;
    } else if (id != null) {
      manager = m.group(1);
    }
    var any = Fields.Check.length(0, Integer.MAX_VALUE);
    var s =
        new Secret(
            id,
            f.string("uri", Fields.Check.pattern(Pattern.compile("^https?://.+"))),
            f.string("prefix", any),
            f.secret("token", any),
            f.string("namespace", any),
            f.string("access_key_id", any),
            f.secret("secret_access_key", any),
            f.secret("session_token", any),
            f.string("region", any),
            f.string("endpoint_url", Fields.Check.pattern(Pattern.compile("^https?://.+"))),
            f.child("auth_config", GcpAuth::read),
            f.string("auth_file", Fields.Check.length(1, Integer.MAX_VALUE)),
            f.bool("ssl_verify"),
            f.labels("labels"),
            f.longValue("create_time", 0),
            f.longValue("update_time", 0));
    if (manager == null) {
      return s;
    }
    switch (manager) {
      case "vault" -> {
        f.required("uri", "the Vault server's address, http(s)://host:port");
        // prefix and token (APISIX requires them) are checked when a reference is read: an
        // Admin API client may write them in steps, as it may with APISIX 3.x's PATCH.
        for (var field : AWS_FIELDS) {
          f.unsupported(field, "an aws field; this is a vault secret manager");
        }
        for (var field : GCP_FIELDS) {
          f.unsupported(field, "a gcp field; this is a vault secret manager");
        }
      }
      case "aws" -> {
        f.required("access_key_id", "an AWS access key id, or $env://NAME");
        f.required("secret_access_key", "an AWS secret access key, or $env://NAME");
        for (var field : VAULT_FIELDS) {
          f.unsupported(field, "a vault field; this is an aws secret manager");
        }
        for (var field : GCP_FIELDS) {
          f.unsupported(field, "a gcp field; this is an aws secret manager");
        }
      }
      default -> {
        // APISIX's schema: oneOf auth_config, auth_file.
        f.exactlyOne("auth_config", "auth_file");
        for (var field : VAULT_FIELDS) {
          f.unsupported(field, "a vault field; this is a gcp secret manager");
        }
        for (var field : AWS_FIELDS) {
          f.unsupported(field, "an aws field; this is a gcp secret manager");
        }
      }
    }
    return s;
  }
}
