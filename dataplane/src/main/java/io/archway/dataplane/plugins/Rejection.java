package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;

/**
 * The rate limiters' answer to a request over the limit: {@code rejected_code}, {@code
 * rejected_msg}.
 */
final class Rejection {

  private Rejection() {}

  static Outcome.Respond of(int code, String msg) {
    if (msg == null) {
      return Outcome.respond(code, null, Outcome.errorBody(code));
    }
    return Outcome.message(code, msg);
  }
}
