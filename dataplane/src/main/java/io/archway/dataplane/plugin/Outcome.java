package io.archway.dataplane.plugin;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** What a request phase decided: go on, answer the client now, or decide later. */
public sealed interface Outcome {

  /** Go on with the next plugin, then upstream. */
  Outcome CONTINUE = new Continue();

  /** Go on. */
  record Continue() implements Outcome {}

  /**
   * Answer the client with this response; the request does not go upstream.
   *
   * @param headers extra response headers, or {@code null}
   * @param body the body, or an empty array
   */
  record Respond(int status, HttpHeaders headers, byte[] body) implements Outcome {}

  /**
   * The decision needs I/O or a timer (a Redis counter, a delay). When {@code stage} completes,
   * {@code then} turns its value into the decision back on the request's event loop (so it may
   * touch the request); a failed stage answers 500.
   */
  record Later(CompletionStage<?> stage, Function<Object, Outcome> then) implements Outcome {

    /**
     * The decision once {@code stage} completed with {@code value} or {@code err}: {@code then}'s
     * ({@code null} is {@link #CONTINUE}), or a 500 when the stage or {@code then} failed, the
     * failure handed to {@code failed} first.
     */
    public Outcome decide(
        Object value, Throwable err, java.util.function.Consumer<Throwable> failed) {
      if (err == null) {
        try {
          var next = then.apply(value);
          return next == null ? CONTINUE : next;
        } catch (RuntimeException ex) {
          err = ex;
        }
      }
      failed.accept(err);
      return message(500, "internal error in a plugin");
    }
  }

  static Respond respond(int status, HttpHeaders headers, byte[] body) {
    return new Respond(status, headers, body == null ? new byte[0] : body);
  }

  /** APISIX's JSON error shape: {@code {"message":"Missing API key found in request"}}. */
  static Respond message(int status, String message) {
    var h = new DefaultHttpHeaders().set("content-type", "application/json");
    return new Respond(
        status,
        h,
        ("{\"message\":\"" + jsonEscape(message) + "\"}\n").getBytes(StandardCharsets.UTF_8));
  }

  /** APISIX's error body: {@code {"error_msg":"404 Route Not Found"}}, the message JSON-escaped. */
  static byte[] errorBody(String message) {
    return ("{\"error_msg\":\"" + jsonEscape(message) + "\"}\n").getBytes(StandardCharsets.UTF_8);
  }

  /** APISIX's error body for a status: {@code {"error_msg":"502 Bad Gateway"}}. */
  static byte[] errorBody(int status) {
    return errorBody(
        status
            + " "
            + io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase());
  }

  /** A plain body with no content type, as APISIX sends {@code rejected_msg}-less answers. */
  static Respond status(int status) {
    return new Respond(status, null, new byte[0]);
  }

  static Later later(CompletionStage<Outcome> stage) {
    return new Later(stage, o -> (Outcome) o);
  }

  @SuppressWarnings("unchecked")
  static <T> Later later(CompletionStage<T> stage, Function<? super T, Outcome> then) {
    return new Later(stage, o -> then.apply((T) o));
  }

  static String jsonEscape(String s) {
    var out = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }
}
