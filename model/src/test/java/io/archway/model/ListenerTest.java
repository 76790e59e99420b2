package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.model.Listener.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ListenerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static Listener read(String json) throws Exception {
    return (Listener) ModelJson.read(Kind.LISTENERS, JSON.readTree(json), "l1", "listeners/l1");
  }

  @Test
  void keysAndSectionAreListeners() throws Exception {
    assertThat(Keys.of("/apisix").parse("/apisix/listeners/default_gw_http"))
        .contains(new Keys.Key(Kind.LISTENERS, "default_gw_http"));
    assertThat(Kind.ofDir("listeners")).contains(Kind.LISTENERS);
    assertThat(KindSchemas.name(Kind.LISTENERS)).isEqualTo("listener");
  }

  @Test
  void everyFieldIsRead() throws Exception {
    var l =
        read(
            "{\"id\": \"l1\", \"name\": \"n\", \"desc\": \"d\", \"labels\": {\"a\": \"b\"},"
                + " \"port\": 8443, \"protocol\": \"HTTPS\", \"ssl_ids\": [\"s1\", \"s2\"],"
                + " \"hostname\": \"*.example.com\"}");
    assertThat(l)
        .isEqualTo(
            new Listener(
                "l1",
                "n",
                "d",
                8443,
                Protocol.HTTPS,
                java.util.List.of("s1", "s2"),
                "*.example.com",
                java.util.Map.of("a", "b"),
                null,
                null));
    assertThat(read("{\"port\": 1, \"protocol\": \"UDP\"}").protocol()).isEqualTo(Protocol.UDP);
    assertThat(read("{\"port\": 65535, \"protocol\": \"TLS\"}").port()).isEqualTo(65535);
    assertThat(Protocol.HTTPS.http()).isTrue();
    assertThat(Protocol.TLS.http()).isFalse();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"protocol\": \"HTTP\"}"
            + "| port: missing (expected: integer 1..65535, the port clients connect to)",
        "{\"port\": 0, \"protocol\": \"HTTP\"}| port: 0 (expected: 1..65535)",
        "{\"port\": 65536, \"protocol\": \"HTTP\"}| port: 65536 (expected: 1..65535)",
        "{\"port\": \"80\", \"protocol\": \"HTTP\"}| port: \"80\" (expected: integer)",
        "{\"port\": 80.5, \"protocol\": \"HTTP\"}| port: 80.5 (expected: integer)",
        "{\"port\": 80}| protocol: missing (expected: one of HTTP, HTTPS, TLS, TCP, UDP)",
        "{\"port\": 80, \"protocol\": \"http\"}"
            + "| protocol: \"http\" (expected: one of HTTP, HTTPS, TLS, TCP, UDP)",
        "{\"port\": 80, \"protocol\": 1}| protocol: 1 (expected: string)",
        "{\"port\": 443, \"protocol\": \"HTTPS\"}"
            + "| ssl_ids: missing (expected: array of at least one ssl id, the certificates"
            + " served (HTTPS))",
        "{\"port\": 443, \"protocol\": \"HTTPS\", \"ssl_ids\": []}"
            + "| ssl_ids: [] (expected: at least 1 item(s))",
        "{\"port\": 443, \"protocol\": \"HTTPS\", \"ssl_ids\": \"a\"}"
            + "| ssl_ids: \"a\" (expected: array of strings)",
        "{\"port\": 443, \"protocol\": \"HTTPS\", \"ssl_ids\": [\"a\", \"a\"]}"
            + "| ssl_ids[1]: \"a\" (expected: no duplicates)",
        "{\"port\": 443, \"protocol\": \"HTTPS\", \"ssl_ids\": [\"a b\"]}"
            + "| ssl_ids[0]: \"a b\" (expected: matches ^[a-zA-Z0-9-_.]{1,64}$)",
        "{\"port\": 443, \"protocol\": \"HTTPS\", \"ssl_ids\": [1]}"
            + "| ssl_ids[0]: 1 (expected: string)",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"ssl_ids\": [\"a\"]}"
            + "| ssl_ids: set on a HTTP listener (expected: only on HTTPS listeners)",
        "{\"port\": 80, \"protocol\": \"TCP\", \"ssl_ids\": [\"a\"]}"
            + "| ssl_ids: set on a TCP listener (expected: only on HTTPS listeners)",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"hostname\": \"a b\"}"
            + "| hostname: \"a b\" (expected: matches ^\\*?[0-9a-zA-Z-._\\[\\]:]+$)",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"hostname\": \"\"}"
            + "| hostname: \"\" (expected: 1 to 253 characters)",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"hostname\": 7}"
            + "| hostname: 7 (expected: string)",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"name\": \"\"}"
            + "| name: \"\" (expected: 1 to 100 characters)",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"labels\": {\"a\": 1}}| labels.a: 1",
        "{\"port\": 80, \"protocol\": \"HTTP\", \"addresses\": []}| addresses: unknown field",
        "{\"id\": \"l2\", \"port\": 80, \"protocol\": \"HTTP\"}"
            + "| id: \"l2\" (expected: \"l1\", the id in the key)",
      })
  void everyBadFieldIsNamed(String json, String problem) {
    assertThatThrownBy(() -> read(json))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("listeners/l1: " + problem.strip());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"port\": 443, \"protocol\": \"HTTPS\"}|false",
        "{\"port\": 80, \"protocol\": \"TCP\", \"ssl_ids\": [\"a\"]}|false",
        "{\"port\": 443, \"protocol\": \"HTTPS\", \"ssl_ids\": [\"a\"]}|true",
        "{\"port\": 80, \"protocol\": \"UDP\"}|true",
      })
  void theSchemaAgreesOnTheRuleBetweenProtocolAndSslIds(String json, boolean valid)
      throws Exception {
    var problems = new java.util.ArrayList<Problem>();
    assertThat(KindSchemas.schema(Kind.LISTENERS).validate(JSON.readTree(json), "l", problems))
        .isEqualTo(valid);
  }
}
