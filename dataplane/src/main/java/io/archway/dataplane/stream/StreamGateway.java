package io.archway.dataplane.stream;

import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.server.Transport;

/** What every stream connection shares: the compiled config, the transport, limits, counters. */
public record StreamGateway(
    ConfigCompiler config, Transport transport, StreamSettings settings, StreamMetrics metrics) {}
