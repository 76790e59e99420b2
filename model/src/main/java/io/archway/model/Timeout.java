package io.archway.model;

/**
 * {@code timeout{connect, send, read}} in seconds (fractions allowed), on routes and upstreams. A
 * missing value means the gateway default.
 */
public record Timeout(Double connect, Double send, Double read) {

  /** APISIX's default for each of the three: 60 seconds. */
  public static final double DEFAULT_SECONDS = 60;

  static Timeout read(Fields f, String path) {
    return new Timeout(
        f.number("connect", 0, true), f.number("send", 0, true), f.number("read", 0, true));
  }
}
