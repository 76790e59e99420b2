package io.archway.dataplane.http;

import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.pipeline.Pipeline;
import java.util.function.BooleanSupplier;

/**
 * What every HTTP/1.1 connection's handlers share: the request pipeline, the counters, the client
 * side's limits, and whether the server is stopping (answers then close their connections).
 */
public record Gateway(
    Pipeline pipeline, HttpMetrics metrics, HttpSettings settings, BooleanSupplier stopping) {}
