package io.archway.dataplane.exchange;

/**
 * Credentials a plugin gives the route handler for the upstream's own protocol (SASL/PLAIN for a
 * Kafka pub-sub route, from {@code kafka-proxy}). A typed attribute, never a variable: loggers and
 * conditions cannot read it, and it does not print its password.
 */
public record UpstreamCredentials(String username, String password) {

  /** Where the exchange keeps them. */
  public static final Exchange.Key<UpstreamCredentials> KEY =
      new Exchange.Key<>("upstream-credentials");

  @Override
  public String toString() {
    return "UpstreamCredentials[username=" + username + "]";
  }
}
