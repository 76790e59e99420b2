package io.archway.dataplane.http;

import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.pubsub.PubSub;
import io.archway.dataplane.upstream.ConnectionPools;
import java.util.function.BooleanSupplier;

/**
 * What every client connection's handler shares: config, pools, counters, log, limits, pub-sub's
 * Kafka consumers.
 */
public record Gateway(
    ConfigCompiler config,
    ConnectionPools pools,
    HttpMetrics metrics,
    InFlight inFlight,
    AccessLog accessLog,
    HttpSettings settings,
    PubSub pubsub,
    BooleanSupplier stopping) {}
