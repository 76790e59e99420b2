package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class SecretTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static Secret read(String json, String idFromKey) throws Exception {
    return (Secret) ModelJson.read(Kind.SECRETS, JSON.readTree(json), idFromKey, "secrets");
  }

  @Test
  void keysOfSecretManagersHaveTwoParts() {
    var keys = Keys.of("/apisix");
    assertThat(keys.parse("/apisix/secrets/vault/1"))
        .contains(new Keys.Key(Kind.SECRETS, "vault/1"));
    assertThat(keys.parse("/apisix/secrets/vault")).isEmpty();
    assertThat(keys.parse("/apisix/secrets/vault/1/x")).isEmpty();
  }

  @Test
  void theAdminApisValueNamesItselfByItsLastPart() throws Exception {
    var s =
        (Secret)
            read(
                "{\"id\": \"1\", \"uri\": \"http://127.0.0.1:8200\", \"prefix\": \"kv\","
                    + " \"token\": \"t0k\"}",
                "vault/1");
    assertThat(s.id()).isEqualTo("vault/1");
    assertThat(s.manager()).isEqualTo("vault");
    assertThat(s.toString()).doesNotContain("t0k");
  }

  @Test
  void gcpNeedsOneServiceAccountAndMixedFieldsAreRefusedByName() throws Exception {
    assertThat(read("{\"auth_file\": \"/x.json\"}", "gcp/1").authFile()).isEqualTo("/x.json");
    var gcp =
        read(
            "{\"auth_config\": {\"client_email\": \"a@p.iam\", \"private_key\": \"k\","
                + " \"project_id\": \"p\"}, \"ssl_verify\": false}",
            "gcp/1");
    assertThat(gcp.authConfig().tokenUri()).isEqualTo("https://oauth2.googleapis.com/token");
    assertThat(gcp.authConfig().entriesUri()).isEqualTo("https://secretmanager.googleapis.com/v1/");
    assertThat(gcp.sslVerify()).isFalse();
    assertThat(gcp.toString()).doesNotContain("\"k\"");
    assertThatThrownBy(() -> read("{}", "gcp/1"))
        .hasMessageContaining("auth_config and auth_file both missing");
    assertThatThrownBy(
            () ->
                read(
                    "{\"auth_file\": \"/x.json\", \"auth_config\": {\"client_email\": \"a\","
                        + " \"private_key\": \"secret-key-text\"}}",
                    "gcp/1"))
        .hasMessageContaining("auth_config.project_id: missing")
        .hasMessageContaining("both set")
        .hasMessageNotContaining("secret-key-text");
    assertThatThrownBy(() -> read("{\"auth_file\": \"/x.json\", \"token\": \"t\"}", "gcp/1"))
        .hasMessageContaining("token: not supported (a vault field; this is a gcp secret manager");
    assertThatThrownBy(() -> read("{\"uri\": \"http://v\", \"auth_file\": \"/f\"}", "vault/1"))
        .hasMessageContaining("auth_file: not supported (a gcp field");
    assertThatThrownBy(() -> read("{\"uri\": \"http://v\", \"region\": \"eu-west-1\"}", "vault/1"))
        .hasMessageContaining("region: not supported (an aws field");
    assertThatThrownBy(() -> read("{\"access_key_id\": \"a\"}", "aws/1"))
        .hasMessageContaining("secret_access_key: missing")
        .hasMessageNotContaining("\"a\"");
  }
}
