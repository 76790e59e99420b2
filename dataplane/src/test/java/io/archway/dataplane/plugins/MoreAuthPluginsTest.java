package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectEncrypter;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.model.ModelJson;
import io.archway.model.PluginSchemas;
import io.archway.model.Problem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ldap-auth, jwe-decrypt, authz-casbin, opa and wolf-rbac: APISIX's schemas and defaults, what
 * compiling refuses, and jwe-decrypt's tokens against an independent JOSE implementation.
 */
class MoreAuthPluginsTest {

  private static final PluginRegistry REGISTRY = PluginRegistry.load();
  private static final PluginServices SERVICES = new PluginServices();
  static final String KEY = "0123456789abcdef0123456789abcdef";

  @TempDir Path dir;

  @AfterAll
  static void close() {
    SERVICES.close();
  }

  static Record bind(String name, String conf) throws Exception {
    return PluginRegistry.bind(REGISTRY.get(name), ModelJson.mapper().readTree(conf));
  }

  static List<String> check(String name, String conf) throws Exception {
    return PluginSchemas.check(
            name, ModelJson.mapper().readTree(conf.replace('\'', '"')), "plugins." + name)
        .stream()
        .map(Problem::toString)
        .toList();
  }

  static List<String> checkConsumer(String name, String conf) throws Exception {
    return PluginSchemas.checkConsumer(
            name, ModelJson.mapper().readTree(conf.replace('\'', '"')), "plugins." + name)
        .stream()
        .map(Problem::toString)
        .toList();
  }

  static List<String> compile(String name, String conf) throws Exception {
    var problems = new ArrayList<Problem>();
    REGISTRY.compileOne(
        name,
        (ObjectNode) ModelJson.mapper().readTree(conf.replace('\'', '"')),
        new PluginScope("routes/r", SERVICES),
        "plugins." + name,
        problems);
    return problems.stream().map(Problem::toString).toList();
  }

  @Test
  void prioritiesAndDefaultsAreApisixs() throws Exception {
    assertThat(REGISTRY.get("ldap-auth").priority()).isEqualTo(2540);
    assertThat(REGISTRY.get("jwe-decrypt").priority()).isEqualTo(2509);
    assertThat(REGISTRY.get("authz-casbin").priority()).isEqualTo(2560);
    assertThat(REGISTRY.get("opa").priority()).isEqualTo(2001);
    assertThat(REGISTRY.get("wolf-rbac").priority()).isEqualTo(2555);
    assertThat(REGISTRY.get("authz-keycloak").priority()).isEqualTo(2000);
    assertThat(REGISTRY.get("cas-auth").priority()).isEqualTo(2597);
    var kc =
        (AuthzKeycloakPlugin.Config)
            bind("authz-keycloak", "{\"client_id\": \"c\", \"discovery\": \"http://k/d\"}");
    assertThat(kc.grantType()).isEqualTo("urn:ietf:params:oauth:grant-type:uma-ticket");
    assertThat(kc.policyEnforcementMode()).isEqualTo("ENFORCING");
    assertThat(kc.permissions()).isEmpty();
    assertThat(kc.timeout()).isEqualTo(3000);
    assertThat(kc.cacheTtlSeconds()).isEqualTo(86400);
    assertThat(kc.accessTokenExpiresIn()).isEqualTo(300);
    assertThat(kc.refreshTokenExpiresIn()).isEqualTo(3600);
    assertThat(kc.sslVerify()).isTrue();
    assertThat(bind("ldap-auth", "{\"base_dn\": \"dc=x\", \"ldap_uri\": \"h:389\"}"))
        .isEqualTo(new LdapAuthPlugin.Config("dc=x", "h:389", false, false, "cn", null));
    assertThat(bind("jwe-decrypt", "{}"))
        .isEqualTo(new JweDecryptPlugin.Config("Authorization", "Authorization", true));
    var opa = (OpaPlugin.Config) bind("opa", "{\"host\": \"http://o\", \"policy\": \"p\"}");
    assertThat(opa.sslVerify()).isTrue();
    assertThat(opa.timeout()).isEqualTo(3000);
    assertThat(opa.keepalive()).isTrue();
    assertThat(opa.keepaliveTimeout()).isEqualTo(60000);
    assertThat(opa.keepalivePool()).isEqualTo(5);
    assertThat(opa.withRoute() || opa.withService() || opa.withConsumer()).isFalse();
    assertThat(REGISTRY.get("ldap-auth").credentialField()).isEqualTo("user_dn");
    assertThat(REGISTRY.get("jwe-decrypt").credentialField()).isEqualTo("key");
    assertThat(REGISTRY.get("wolf-rbac").credentialField()).isEqualTo("appid");
  }

  @Test
  void schemasRefuseWhatApisixRefuses() throws Exception {
    assertThat(check("ldap-auth", "{'base_dn': 'dc=x'}"))
        .anyMatch(p -> p.startsWith("plugins.ldap-auth.ldap_uri: missing"));
    assertThat(checkConsumer("ldap-auth", "{}"))
        .anyMatch(p -> p.startsWith("plugins.ldap-auth.user_dn: missing"));
    assertThat(checkConsumer("jwe-decrypt", "{'key': 'k', 'secret': 'short'}"))
        .anyMatch(p -> p.startsWith("plugins.jwe-decrypt.secret"));
    assertThat(check("opa", "{'host': 'http://o', 'policy': 'p', 'timeout': 60001}"))
        .anyMatch(p -> p.startsWith("plugins.opa.timeout"));
    assertThat(check("opa", "{'host': 'http://o'}"))
        .anyMatch(p -> p.startsWith("plugins.opa.policy: missing"));
    assertThat(check("authz-casbin", "{'model': 'm'}"))
        .anyMatch(p -> p.startsWith("plugins.authz-casbin.username: missing"));
    assertThat(check("wolf-rbac", "{'server': 'http://w'}"))
        .anyMatch(p -> p.startsWith("plugins.wolf-rbac.server: unknown field"));
    assertThat(checkConsumer("wolf-rbac", "{'appid': 'a', 'server': 'http://w'}")).isEmpty();
    assertThat(check("authz-keycloak", "{'client_id': 'c'}")).isNotEmpty();
    assertThat(check("cas-auth", "{'idp_uri': 'http://cas', 'cas_callback_uri': '/cb'}"))
        .anyMatch(p -> p.startsWith("plugins.cas-auth.logout_uri: missing"));
    assertThat(check("authz-keycloak", "{'client_id': 'c', 'token_endpoint': 'http://k/t'}"))
        .isEmpty();
    assertThat(
            check(
                "authz-keycloak",
                "{'client_id': 'c', 'token_endpoint': 'http://k/t', 'grant_type': 'password'}"))
        .anyMatch(p -> p.startsWith("plugins.authz-keycloak.grant_type"));
  }

  @Test
  void samlAuthIsRefusedWithTheReason() throws Exception {
    assertThat(check("saml-auth", "{}"))
        .singleElement()
        .asString()
        .startsWith(
            "plugins.saml-auth: APISIX plugin \"saml-auth\" is refused by Archway: SAML 2.0");
  }

  @Test
  void compileRefusesBadAddressesAndHalfModels() throws Exception {
    assertThat(compile("ldap-auth", "{'base_dn': 'dc=x', 'ldap_uri': 'h:port'}"))
        .anyMatch(p -> p.contains("ldap_uri: not host:port"));
    assertThat(compile("ldap-auth", "{'base_dn': 'dc=x', 'ldap_uri': 'h:70000'}"))
        .anyMatch(p -> p.contains("ldap_uri: port out of range"));
    assertThat(
            compile(
                "authz-keycloak",
                "{'client_id': 'c', 'token_endpoint': 'http://k/t', 'lazy_load_paths': true}"))
        .anyMatch(p -> p.contains("lazy_load_paths: not supported yet"));
    assertThat(compile("opa", "{'host': 'ftp://o', 'policy': 'p'}"))
        .anyMatch(p -> p.contains("host: not an http(s) URL"));
    assertThat(compile("authz-casbin", "{'username': 'u', 'model': 'x'}"))
        .anyMatch(p -> p.contains("policy: missing (expected: model and policy together)"));
    assertThat(compile("authz-casbin", "{'username': 'u', 'model_path': '/m', 'model': 'x'}"))
        .anyMatch(p -> p.contains("model_path: set with model"));
    assertThat(
            compile(
                "authz-casbin",
                "{'username': 'u', 'model_path': '/no/such/model', 'policy_path': '/no/p'}"))
        .anyMatch(p -> p.contains("model_path: cannot read /no/such/model"));
    assertThat(
            compile("authz-casbin", "{'username': 'u', 'model': 'nonsense', 'policy': 'p, a, b'}"))
        .anyMatch(p -> p.contains("model: not a Casbin model and policy"));
  }

  static final String MODEL =
      """
      [request_definition]
      r = sub, obj, act

      [policy_definition]
      p = sub, obj, act

      [role_definition]
      g = _, _

      [policy_effect]
      e = some(where (p.eft == allow))

      [matchers]
      m = (g(r.sub, p.sub) || keyMatch(r.sub, p.sub)) && keyMatch(r.obj, p.obj) && keyMatch(r.act, p.act)
      """;

  static final String POLICY =
      """
      p, *, /, GET
      p, admin, *, *
      g, alice, admin
      """;

  @Test
  void casbinEnforcesModelAndPolicyFromTextAndFiles() throws Exception {
    var e = AuthzCasbinPlugin.enforcer(MODEL, POLICY, "model");
    assertThat(e.enforce("anonymous", "/", "GET")).isTrue();
    assertThat(e.enforce("anonymous", "/res", "GET")).isFalse();
    assertThat(e.enforce("alice", "/res", "POST")).isTrue();
    var m = Files.writeString(dir.resolve("model.conf"), MODEL);
    var p = Files.writeString(dir.resolve("policy.csv"), POLICY);
    assertThat(
            compile(
                "authz-casbin",
                "{'username': 'u', 'model_path': '%s', 'policy_path': '%s'}".formatted(m, p)))
        .isEmpty();
  }

  @Test
  void jweFromAnIndependentImplementationDecrypts() throws Exception {
    var jwe =
        new JWEObject(
            new JWEHeader.Builder(JWEAlgorithm.DIR, EncryptionMethod.A256GCM).keyID("k1").build(),
            new Payload("Bearer inner-token"));
    jwe.encrypt(new DirectEncrypter(KEY.getBytes(StandardCharsets.UTF_8)));
    var parts = jwe.serialize().split("\\.", -1);
    assertThat(
            new String(
                JweDecryptPlugin.decrypt(JweDecryptPlugin.key(KEY, false), parts),
                StandardCharsets.UTF_8))
        .isEqualTo("Bearer inner-token");
    var b64 = Base64.getEncoder().encodeToString(KEY.getBytes(StandardCharsets.UTF_8));
    assertThat(JweDecryptPlugin.decrypt(JweDecryptPlugin.key(b64, true), parts)).isNotEmpty();
    var other = "x".repeat(32);
    assertThatThrownBy(() -> JweDecryptPlugin.decrypt(JweDecryptPlugin.key(other, false), parts))
        .isInstanceOf(IllegalArgumentException.class);
    // A changed protected header no longer authenticates.
    var changed = parts.clone();
    changed[0] = b64url("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"k2\"}");
    assertThatThrownBy(() -> JweDecryptPlugin.decrypt(JweDecryptPlugin.key(KEY, false), changed))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void jweSealedAsApisixDoesDecrypt() throws Exception {
    var token = apisixToken("k1", KEY, "hello");
    assertThat(
            new String(
                JweDecryptPlugin.decrypt(JweDecryptPlugin.key(KEY, false), token.split("\\.", -1)),
                StandardCharsets.UTF_8))
        .isEqualTo("hello");
    assertThatThrownBy(() -> JweDecryptPlugin.key("short", false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** A token as APISIX's {@code /apisix/plugin/jwe/encrypt} makes it: GCM without AAD. */
  static String apisixToken(String kid, String secret, String payload) throws Exception {
    var iv = "123456789012".getBytes(StandardCharsets.US_ASCII);
    var c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(
        Cipher.ENCRYPT_MODE,
        new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "AES"),
        new GCMParameterSpec(128, iv));
    var sealed = c.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    var ct = java.util.Arrays.copyOf(sealed, sealed.length - 16);
    var tag = java.util.Arrays.copyOfRange(sealed, sealed.length - 16, sealed.length);
    var enc = Base64.getUrlEncoder().withoutPadding();
    return b64url("{\"kid\":\"" + kid + "\",\"alg\":\"dir\",\"enc\":\"A256GCM\"}")
        + ".."
        + enc.encodeToString(iv)
        + "."
        + enc.encodeToString(ct)
        + "."
        + enc.encodeToString(tag);
  }

  static String b64url(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
