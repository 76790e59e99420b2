package io.archway.dataplane.pipeline;

import io.archway.dataplane.route.PathNormalizer;
import java.time.Duration;

/**
 * The limits and timeouts the pipeline applies to a request, whatever protocol carried it (the HTTP
 * listener's settings give them).
 *
 * @param maxBodySize {@code client_max_body_size}; more gets 413 ({@code 0}: no limit)
 * @param clientBodyTimeout longest wait for the next piece of a request body; then 408
 * @param clientBodyBufferSize body bytes read before a node is chosen ({@code 0}: none)
 * @param sendTimeout longest a client may leave a response unread
 * @param paths how request paths are normalized
 */
public record RequestLimits(
    long maxBodySize,
    Duration clientBodyTimeout,
    int clientBodyBufferSize,
    Duration sendTimeout,
    PathNormalizer.Policy paths) {}
