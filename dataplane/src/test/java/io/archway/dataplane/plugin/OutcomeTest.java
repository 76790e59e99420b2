package io.archway.dataplane.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutcomeTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void errorBodyIsApisixShape() {
    assertThat(new String(Outcome.errorBody(404), StandardCharsets.UTF_8))
        .isEqualTo("{\"error_msg\":\"404 Not Found\"}\n");
    assertThat(new String(Outcome.errorBody("404 Route Not Found"), StandardCharsets.UTF_8))
        .isEqualTo("{\"error_msg\":\"404 Route Not Found\"}\n");
  }

  @Test
  void errorBodyEscapesItsMessage() throws Exception {
    var message = "a \"quoted\" \\ back\nslash\r\t\u0001 and \u00e9";
    var body = Outcome.errorBody(message);
    // It stays one JSON object with the message as it was, on one line.
    var text = new String(body, StandardCharsets.UTF_8);
    assertThat(text.indexOf('\n')).isEqualTo(text.length() - 1);
    assertThat(JSON.readTree(body).get("error_msg").asText()).isEqualTo(message);
    assertThat(JSON.readTree(body).size()).isEqualTo(1);
  }

  @Test
  void messageEscapesToo() throws Exception {
    var r = Outcome.message(401, "bad \"key\"\n");
    assertThat(JSON.readTree(r.body()).get("message").asText()).isEqualTo("bad \"key\"\n");
  }
}
