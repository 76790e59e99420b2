package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import java.nio.charset.StandardCharsets;

/**
 * The rate limiters' answer to a request over the limit: {@code rejected_code}, {@code
 * rejected_msg}.
 */
final class Rejection {

  private Rejection() {}

  static Outcome.Respond of(JsonNode conf) {
    int code = Conf.integer(conf, "rejected_code", 503);
    var msg = Conf.text(conf, "rejected_msg", null);
    if (msg == null) {
      return Outcome.respond(
          code,
          null,
          ("{\"error_msg\":\"" + code + " " + reason(code) + "\"}\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    return Outcome.message(code, msg);
  }

  private static String reason(int code) {
    return io.netty.handler.codec.http.HttpResponseStatus.valueOf(code).reasonPhrase();
  }
}
