package io.archway.dataplane.upstream;

/**
 * Where a pooled connection goes: connections are shared by every upstream that names the same node
 * with the same TLS settings, so they survive a reload that changes something else.
 *
 * @param sni the TLS server name, or {@code null} (plain HTTP, or an IP address)
 */
public record Endpoint(String host, int port, boolean tls, String sni, boolean verify) {}
