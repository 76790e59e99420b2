package io.archway.dataplane.server;

/** Where the listeners bind. */
public record ServerSettings(String bindAddress, int httpPort, int statusPort) {}
