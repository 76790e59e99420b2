package io.archway.dataplane.http2;

import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.pipeline.Pipeline;
import java.time.Duration;

/**
 * What every HTTP/2 connection's handlers share: the request pipeline, the counters, the HTTP/2
 * settings, and how long a connection may sit with no stream open ({@code keepalive_timeout}).
 */
public record Http2Gateway(
    Pipeline pipeline, HttpMetrics metrics, H2Settings settings, Duration idleTimeout) {}
