package io.archway.dataplane.server;

import io.archway.dataplane.http.HttpSettings;
import io.archway.dataplane.stream.StreamSettings;

/**
 * Where the listeners bind, how many I/O threads serve them, the client-side limits and the stream
 * listeners.
 *
 * @param workers I/O event loops ({@code 0}: one per core)
 * @param pubsub limits of Kafka pub-sub sessions
 * @param kubernetes API access for upstreams with {@code discovery_type: kubernetes}
 * @param tls the HTTPS listener's protocols, ciphers and unknown-name behaviour
 * @param http2 HTTP/2 on the listeners, its SETTINGS and limits
 * @param drainTimeout how long the connections of a closed listener may take to finish
 * @param privilegedPorts whether {@code listeners} below 1024 bind their port (else port + 10000)
 * @param overload connection limit per listener and memory high-water mark
 */
record ServerSettings(
    String bindAddress,
    int httpPort,
    int httpsPort,
    int statusPort,
    int workers,
    HttpSettings http,
    StreamSettings stream,
    io.archway.dataplane.pubsub.PubSubSettings pubsub,
    io.archway.dataplane.discovery.KubernetesSettings kubernetes,
    io.archway.dataplane.tls.TlsSettings tls,
    io.archway.dataplane.http2.H2Settings http2,
    java.time.Duration drainTimeout,
    boolean privilegedPorts,
    OverloadSettings overload) {}
