package io.archway.dataplane.server;

import io.archway.dataplane.http.HttpSettings;

/**
 * Where the listeners bind, how many I/O threads serve them, and the client-side limits.
 *
 * @param workers I/O event loops ({@code 0}: one per core)
 */
public record ServerSettings(
    String bindAddress, int httpPort, int statusPort, int workers, HttpSettings http) {}
