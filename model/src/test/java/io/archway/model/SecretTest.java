package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class SecretTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static ConfigObject read(String json, String idFromKey) throws Exception {
    return ModelJson.read(Kind.SECRETS, JSON.readTree(json), idFromKey, "secrets");
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
  void gcpAndMixedFieldsAreRefusedByName() {
    assertThatThrownBy(() -> read("{\"auth_file\": \"/x.json\"}", "gcp/1"))
        .hasMessageContaining("the gcp secret manager is not supported by Archway yet");
    assertThatThrownBy(() -> read("{\"uri\": \"http://v\", \"region\": \"eu-west-1\"}", "vault/1"))
        .hasMessageContaining("region: not supported (an aws field");
    assertThatThrownBy(() -> read("{\"access_key_id\": \"a\"}", "aws/1"))
        .hasMessageContaining("secret_access_key: missing")
        .hasMessageNotContaining("\"a\"");
  }
}
