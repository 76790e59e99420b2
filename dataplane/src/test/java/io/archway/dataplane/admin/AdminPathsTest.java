package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdminPathsTest {

  private static AdminPaths.Target t(String rest) {
    return AdminPaths.parse(rest).orElseThrow();
  }

  @Test
  void collectionsObjectsAndParts() {
    assertThat(t("routes").collection()).isTrue();
    assertThat(t("routes/").dir()).isEqualTo("routes/");
    assertThat(t("routes/1").key()).isEqualTo("routes/1");
    assertThat(t("routes/1").kind()).isEqualTo(Kind.ROUTES);
    assertThat(t("routes/1/upstream/nodes").sub()).isEqualTo(List.of("upstream", "nodes"));
    assertThat(t("plugin_metadata/http-logger").key()).isEqualTo("plugin_metadata/http-logger");
    assertThat(t("consumers/jack").idField()).isEqualTo("username");
  }

  @Test
  void credentialsAndSecretsNestUnderTheirOwner() {
    var c = t("consumers/jack/credentials/c1");
    assertThat(c.type()).isEqualTo("credentials");
    assertThat(c.key()).isEqualTo("consumers/jack/credentials/c1");
    assertThat(t("consumers/jack/credentials").collection()).isTrue();
    assertThat(t("secrets/vault/1").key()).isEqualTo("secrets/vault/1");
    assertThat(t("secrets/vault").dir()).isEqualTo("secrets/vault/");
    assertThat(t("secrets").idParts()).isEqualTo(2);
    // protos are a model kind (grpc-transcode compiles them); secrets are not.
    assertThat(t("protos/p").kind()).isEqualTo(io.archway.model.Kind.PROTOS);
    assertThat(t("secrets/vault/1").kind()).isNull();
  }

  @Test
  void unknownOrMalformedPathsNameNothing() {
    assertThat(AdminPaths.parse("nothing/1")).isEmpty();
    assertThat(AdminPaths.parse("routes//1")).isEmpty();
    assertThat(AdminPaths.parse("")).isEmpty();
    assertThat(AdminPaths.parse("secrets/a/b/c")).isEmpty();
  }
}
