package io.archway.model;

import java.util.Map;
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
 *   <li>{@code gcp} is refused: Archway does not read Google Secret Manager yet.
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
    Map<String, String> labels,
    Long createTime,
    Long updateTime)
    implements ConfigObject {

  /** {@code <manager>/<id>}. */
  public static final Pattern ID = Pattern.compile("^(vault|aws|gcp)/([a-zA-Z0-9-_.]{1,64})$");

  /** Names the manager only: a record would print its token and keys. */
  @Override
  public String toString() {
    return "Secret[" + id + "]";
  }

  /** {@code vault} or {@code aws}. */
  public String manager() {
    return id.substring(0, id.indexOf('/'));
  }

  static Secret read(Fields f, String path) {
    var id = f.string("id");
    var m = id == null ? null : ID.matcher(id);
    String manager = null;
    if (id != null && !m.matches()) {
      f.problem("id", "\"" + id + "\" (expected: <manager>/<id>, manager one of vault, aws)");
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
        for (var field :
            new String[] {
              "access_key_id", "secret_access_key", "session_token", "region", "endpoint_url"
            }) {
          f.unsupported(field, "an aws field; this is a vault secret manager");
        }
      }
      case "aws" -> {
        f.required("access_key_id", "an AWS access key id, or $env://NAME");
        f.required("secret_access_key", "an AWS secret access key, or $env://NAME");
        for (var field : new String[] {"uri", "prefix", "token", "namespace"}) {
          f.unsupported(field, "a vault field; this is an aws secret manager");
        }
      }
      default -> {
        // gcp's own fields: the problem is the manager, not each field.
        f.raw("auth_config");
        f.raw("auth_file");
        f.raw("ssl_verify");
        f.problem(
            "id",
            "\""
                + id
                + "\": the gcp secret manager is not supported by Archway yet (expected: vault"
                + " or aws, or $env://NAME references)");
      }
    }
    return s;
  }
}
