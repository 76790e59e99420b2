package io.archway.dataplane.plugin;

import io.netty.handler.codec.http.HttpResponse;

/**
 * A compiled plugin configuration: immutable (shared state such as counters lives in objects it
 * owns), safe to run on any event loop, and never blocking. Each phase is optional.
 *
 * <p>The request phases ({@link #rewrite}, {@link #access}) run before the request goes upstream
 * and decide whether it does; the response phases ({@link #headerFilter}, {@link #bodyFilter}) see
 * whatever response goes to the client (the node's, or one a plugin gave); {@link #log} runs once
 * the response is sent.
 */
public interface PluginInstance {

  /** Early request phase: authentication, URI and header rewriting, redirects. */
  default Outcome rewrite(PluginContext ctx) {
    return Outcome.CONTINUE;
  }

  /** Late request phase: rate limits, access rules, the upstream choice. */
  default Outcome access(PluginContext ctx) {
    return Outcome.CONTINUE;
  }

  /** May change the response's status and headers before they are sent. */
  default void headerFilter(PluginContext ctx, HttpResponse response) {}

  /**
   * Whether this plugin wants the whole response body for {@link #bodyFilter}, asked after the
   * header filters; when any plugin does, the body is gathered before it is sent.
   */
  default boolean wantsBody(PluginContext ctx) {
    return false;
  }

  /** Turns the whole response body into the one sent (called only when {@link #wantsBody}). */
  default byte[] bodyFilter(PluginContext ctx, byte[] body) {
    return body;
  }

  /**
   * A transformation of the response body as it streams (gzip), asked once per response after the
   * header filters (which may have decided it, and set the fields it needs, such as {@code
   * Content-Encoding}); {@code null}: none. It runs after the whole-body filters, on what they
   * give; the body is sent without a length ({@code Content-Length} is removed).
   */
  default BodyStream bodyStream(PluginContext ctx) {
    return null;
  }

  /** After the response went out: counters, loggers. Must not block. */
  default void log(PluginContext ctx) {}
}
