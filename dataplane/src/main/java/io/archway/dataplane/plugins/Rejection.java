package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;

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
      return Outcome.respond(code, null, Outcome.errorBody(code));
    }
    return Outcome.message(code, msg);
  }
}
