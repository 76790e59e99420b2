package io.archway.dataplane.http;

import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.upstream.ConnectionPools;
import java.util.function.BooleanSupplier;

/** What every client connection's handler shares: config, pools, counters, log, limits. */
public record Gateway(
    ConfigCompiler config,
    ConnectionPools pools,
    HttpMetrics metrics,
    InFlight inFlight,
    AccessLog accessLog,
    HttpSettings settings,
    BooleanSupplier stopping) {}
