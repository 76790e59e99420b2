package io.archway.dataplane.http;

import io.archway.dataplane.pipeline.RequestLimits;
import io.archway.dataplane.route.PathNormalizer;
import java.time.Duration;

/**
 * Limits and timeouts of the client side, with nginx's names in mind.
 *
 * @param maxUriLength longest request line accepted; longer gets 414
 * @param maxHeaderSize most bytes of headers accepted; more gets 431
 * @param maxBodySize {@code client_max_body_size}: most body bytes; more gets 413 ({@code 0}: no
 *     limit, as APISIX's default)
 * @param headerTimeout time a client has to send a whole request head once it started (slowloris)
 * @param idleTimeout time a keep-alive connection may sit with no request, and a request body may
 *     pause
 * @param accessLog {@code -} for standard output, a file path, or {@code off}
 * @param clientBodyTimeout {@code client_body_timeout}: longest wait for the next piece of a
 *     request body; longer gets 408 and a close ({@code 0}: no limit)
 * @param clientBodyBufferSize {@code client_body_buffer_size}: body bytes read before a node is
 *     chosen, so a slow sender holds no upstream connection ({@code 0}: none, stream at once)
 * @param sendTimeout {@code send_timeout}: longest a client may leave a response unread (its socket
 *     full) before the connection and the node's are closed ({@code 0}: no limit)
 * @param paths how request paths are normalized ({@code merge_slashes}, {@code escaped_slashes})
 */
public record HttpSettings(
    int maxUriLength,
    int maxHeaderSize,
    long maxBodySize,
    Duration headerTimeout,
    Duration idleTimeout,
    String accessLog,
    Duration clientBodyTimeout,
    int clientBodyBufferSize,
    Duration sendTimeout,
    PathNormalizer.Policy paths) {

  /** Most header fields a request may have; more gets 431. */
  public static final int MAX_HEADERS = 256;

  public static final HttpSettings DEFAULTS =
      new HttpSettings(
          8192,
          32 * 1024,
          0,
          Duration.ofSeconds(60),
          Duration.ofSeconds(60),
          "-",
          Duration.ofSeconds(60),
          64 * 1024,
          Duration.ofSeconds(60),
          PathNormalizer.Policy.DEFAULT);

  /** What the request pipeline applies to every request. */
  public RequestLimits requestLimits() {
    return new RequestLimits(
        maxBodySize, clientBodyTimeout, clientBodyBufferSize, sendTimeout, paths);
  }

  public HttpSettings withAccessLog(String accessLog) {
    return new HttpSettings(
        maxUriLength,
        maxHeaderSize,
        maxBodySize,
        headerTimeout,
        idleTimeout,
        accessLog,
        clientBodyTimeout,
        clientBodyBufferSize,
        sendTimeout,
        paths);
  }

  public HttpSettings withTimeouts(Duration header, Duration idle) {
    return new HttpSettings(
        maxUriLength,
        maxHeaderSize,
        maxBodySize,
        header,
        idle,
        accessLog,
        clientBodyTimeout,
        clientBodyBufferSize,
        sendTimeout,
        paths);
  }

  public HttpSettings withLimits(int uri, int headers, long body) {
    return new HttpSettings(
        uri,
        headers,
        body,
        headerTimeout,
        idleTimeout,
        accessLog,
        clientBodyTimeout,
        clientBodyBufferSize,
        sendTimeout,
        paths);
  }

  public HttpSettings withClientBody(Duration timeout, int bufferSize) {
    return new HttpSettings(
        maxUriLength,
        maxHeaderSize,
        maxBodySize,
        headerTimeout,
        idleTimeout,
        accessLog,
        timeout,
        bufferSize,
        sendTimeout,
        paths);
  }

  public HttpSettings withSendTimeout(Duration timeout) {
    return new HttpSettings(
        maxUriLength,
        maxHeaderSize,
        maxBodySize,
        headerTimeout,
        idleTimeout,
        accessLog,
        clientBodyTimeout,
        clientBodyBufferSize,
        timeout,
        paths);
  }

  public HttpSettings withPaths(PathNormalizer.Policy paths) {
    return new HttpSettings(
        maxUriLength,
        maxHeaderSize,
        maxBodySize,
        headerTimeout,
        idleTimeout,
        accessLog,
        clientBodyTimeout,
        clientBodyBufferSize,
        sendTimeout,
        paths);
  }
}
