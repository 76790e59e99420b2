package io.archway.dataplane.http2;

import java.time.Duration;

/**
 * HTTP/2 on the client side: where it is offered, what the server's {@code SETTINGS} announce, and
 * the caps that defend a connection against floods.
 *
 * @param tls offer {@code h2} by ALPN on the HTTPS listener (before {@code http/1.1})
 * @param h2c take cleartext HTTP/2 on the HTTP listener: prior knowledge (the connection preface)
 *     and {@code Upgrade: h2c}
 * @param maxConcurrentStreams {@code SETTINGS_MAX_CONCURRENT_STREAMS}: streams a client may have
 *     open at once on one connection; more are refused ({@code REFUSED_STREAM})
 * @param maxHeaderListSize {@code SETTINGS_MAX_HEADER_LIST_SIZE}: the decoded size of a request's
 *     header block (RFC 7541's count: names, values and 32 per field); more gets 431, and a block a
 *     quarter larger, however many CONTINUATION frames carry it, ends the connection
 * @param initialWindowSize {@code SETTINGS_INITIAL_WINDOW_SIZE}: request body bytes a stream may
 *     send ahead of what the pipeline took; the connection's window is this times {@code
 *     maxConcurrentStreams}, so one stalled stream never stalls the others
 * @param maxFrameSize {@code SETTINGS_MAX_FRAME_SIZE}: largest frame payload a client may send
 * @param maxResets {@code RST_STREAM} frames a client may send per {@code resetWindow} before the
 *     connection ends with {@code GOAWAY ENHANCE_YOUR_CALM} (rapid reset, CVE-2023-44487)
 * @param resetWindow the interval {@code maxResets} counts over
 * @param maxControlFrames {@code PING} and {@code SETTINGS} frames a client may send per {@code
 *     resetWindow} before the connection ends with {@code GOAWAY ENHANCE_YOUR_CALM}
 * @param maxQueuedControlFrames answers to control frames (PING and SETTINGS acknowledgements,
 *     resets) that may wait unwritten for a client that does not read; more closes the connection
 */
public record H2Settings(
    boolean tls,
    boolean h2c,
    int maxConcurrentStreams,
    int maxHeaderListSize,
    int initialWindowSize,
    int maxFrameSize,
    int maxResets,
    Duration resetWindow,
    int maxControlFrames,
    int maxQueuedControlFrames) {

  public static final H2Settings DEFAULTS =
      new H2Settings(
          true, false, 128, 32 * 1024, 65_535, 16_384, 200, Duration.ofSeconds(30), 1000, 10_000);

  public H2Settings {
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException(
          "max_concurrent_streams: " + maxConcurrentStreams + " (expected: >= 1)");
    }
    if (initialWindowSize < 1) {
      throw new IllegalArgumentException(
          "initial_window_size: " + initialWindowSize + " (expected: 1 to 2147483647)");
    }
    if (maxFrameSize < 16_384 || maxFrameSize > 16_777_215) {
      throw new IllegalArgumentException(
          "max_frame_size: " + maxFrameSize + " (expected: 16384 to 16777215)");
    }
    if (maxHeaderListSize < 1024) {
      throw new IllegalArgumentException(
          "max_header_list_size: " + maxHeaderListSize + " (expected: >= 1024)");
    }
    if (maxResets < 1 || maxControlFrames < 1 || maxQueuedControlFrames < 1) {
      throw new IllegalArgumentException("HTTP/2 flood limits must be >= 1");
    }
    if (resetWindow.toSeconds() < 1) {
      throw new IllegalArgumentException("reset window: " + resetWindow + " (expected: >= 1s)");
    }
  }

  /** The connection's receive window: every stream's, so that none waits for another. */
  long connectionWindow() {
    return Math.min((long) initialWindowSize * maxConcurrentStreams, Integer.MAX_VALUE);
  }

  public H2Settings withTls(boolean on) {
    return new H2Settings(
        on,
        h2c,
        maxConcurrentStreams,
        maxHeaderListSize,
        initialWindowSize,
        maxFrameSize,
        maxResets,
        resetWindow,
        maxControlFrames,
        maxQueuedControlFrames);
  }

  public H2Settings withH2c(boolean on) {
    return new H2Settings(
        tls,
        on,
        maxConcurrentStreams,
        maxHeaderListSize,
        initialWindowSize,
        maxFrameSize,
        maxResets,
        resetWindow,
        maxControlFrames,
        maxQueuedControlFrames);
  }

  /** A copy with these SETTINGS. */
  public H2Settings withSettings(
      int maxConcurrentStreams, int maxHeaderListSize, int initialWindowSize, int maxFrameSize) {
    return new H2Settings(
        tls,
        h2c,
        maxConcurrentStreams,
        maxHeaderListSize,
        initialWindowSize,
        maxFrameSize,
        maxResets,
        resetWindow,
        maxControlFrames,
        maxQueuedControlFrames);
  }

  /** A copy with these flood limits. */
  public H2Settings withFloodLimits(
      int maxResets, Duration resetWindow, int maxControlFrames, int maxQueuedControlFrames) {
    return new H2Settings(
        tls,
        h2c,
        maxConcurrentStreams,
        maxHeaderListSize,
        initialWindowSize,
        maxFrameSize,
        maxResets,
        resetWindow,
        maxControlFrames,
        maxQueuedControlFrames);
  }
}
