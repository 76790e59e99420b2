package io.archway.dataplane.cli;

import static io.archway.dataplane.cli.Values.atLeastOne;
import static io.archway.dataplane.cli.Values.count;
import static io.archway.dataplane.cli.Values.intBytes;
import static io.archway.dataplane.cli.Values.kubeApi;
import static io.archway.dataplane.cli.Values.port;
import static io.archway.dataplane.cli.Values.positive;
import static io.archway.dataplane.cli.Values.seconds;
import static io.archway.dataplane.cli.Values.sorted;
import static io.archway.dataplane.cli.Values.text;
import static io.archway.dataplane.cli.Values.texts;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.discovery.KubernetesSettings;
import io.archway.dataplane.http2.H2Settings;
import io.archway.dataplane.pubsub.PubSubSettings;
import io.archway.dataplane.tls.TlsSettings;
import java.nio.file.Path;
import java.util.Set;

/** The {@code tls:} and {@code pubsub:} sections of the {@code --config} file. */
final class ConfigSections {

  private static final Set<String> PUBSUB_FIELDS =
      Set.of(
          "max_frame_size",
          "max_fetch_size",
          "fetch_wait",
          "broker_timeout",
          "consumers",
          "max_in_flight",
          "idle_timeout");
  private static final Set<String> TLS_FIELDS =
      Set.of(
          "protocols",
          "ciphers",
          "fallback_sni",
          "unknown_sni",
          "provider",
          "redirect_port",
          "handshake_timeout");

  private static final Set<String> HTTP2_FIELDS =
      Set.of(
          "tls",
          "h2c",
          "max_concurrent_streams",
          "max_header_list_size",
          "initial_window_size",
          "max_frame_size",
          "max_resets",
          "reset_window",
          "max_control_frames",
          "max_queued_control_frames");

  private ConfigSections() {}

  /**
   * {@code http2: {tls: true, h2c: false, max_concurrent_streams: 128, ...}}: HTTP/2 on the
   * listeners, its SETTINGS and its flood limits.
   */
  static H2Settings http2(Path file, JsonNode v, H2Settings h2) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file + ": http2: expected a mapping (" + String.join(", ", sorted(HTTP2_FIELDS)) + ")");
    }
    for (var e : v.properties()) {
      var at = file + ": http2." + e.getKey();
      var node = e.getValue();
      var value = node.asText();
      try {
        h2 =
            switch (e.getKey()) {
              case "tls" -> h2.withTls(bool(at, node));
              case "h2c" -> h2.withH2c(bool(at, node));
              case "max_concurrent_streams" ->
                  h2.withSettings(
                      atLeastOne(at, (int) Math.min(intBytes(at, value), 1 << 20)),
                      h2.maxHeaderListSize(),
                      h2.initialWindowSize(),
                      h2.maxFrameSize());
              case "max_header_list_size" ->
                  h2.withSettings(
                      h2.maxConcurrentStreams(),
                      intBytes(at, value),
                      h2.initialWindowSize(),
                      h2.maxFrameSize());
              case "initial_window_size" ->
                  h2.withSettings(
                      h2.maxConcurrentStreams(),
                      h2.maxHeaderListSize(),
                      intBytes(at, value),
                      h2.maxFrameSize());
              case "max_frame_size" ->
                  h2.withSettings(
                      h2.maxConcurrentStreams(),
                      h2.maxHeaderListSize(),
                      h2.initialWindowSize(),
                      intBytes(at, value));
              case "max_resets" ->
                  h2.withFloodLimits(
                      intBytes(at, value),
                      h2.resetWindow(),
                      h2.maxControlFrames(),
                      h2.maxQueuedControlFrames());
              case "reset_window" ->
                  h2.withFloodLimits(
                      h2.maxResets(),
                      positive(at, seconds(at, value)),
                      h2.maxControlFrames(),
                      h2.maxQueuedControlFrames());
              case "max_control_frames" ->
                  h2.withFloodLimits(
                      h2.maxResets(),
                      h2.resetWindow(),
                      intBytes(at, value),
                      h2.maxQueuedControlFrames());
              case "max_queued_control_frames" ->
                  h2.withFloodLimits(
                      h2.maxResets(), h2.resetWindow(), h2.maxControlFrames(), intBytes(at, value));
              default ->
                  throw new UsageException(
                      at
                          + ": unknown setting (expected one of: "
                          + String.join(", ", sorted(HTTP2_FIELDS))
                          + ")");
            };
      } catch (IllegalArgumentException ex) {
        throw new UsageException(file + ": http2." + ex.getMessage());
      }
    }
    return h2;
  }

  static boolean bool(String at, JsonNode v) throws UsageException {
    if (!v.isBoolean()) {
      throw new UsageException(at + ": " + v + " (expected: true or false)");
    }
    return v.booleanValue();
  }

  /** {@code tls: {protocols: [TLSv1.2, TLSv1.3], fallback_sni: NAME, ...}}: the HTTPS listener. */
  static TlsSettings tls(Path file, JsonNode v, TlsSettings tls) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file + ": tls: expected a mapping (" + String.join(", ", sorted(TLS_FIELDS)) + ")");
    }
    for (var e : v.properties()) {
      var at = file + ": tls." + e.getKey();
      var value = e.getValue();
      tls =
          switch (e.getKey()) {
            case "protocols" -> {
              var list = texts(at, value);
              for (var protocol : list) {
                if (!protocol.equals("TLSv1.2") && !protocol.equals("TLSv1.3")) {
                  throw new UsageException(
                      at + ": \"" + protocol + "\" (expected: TLSv1.2, TLSv1.3)");
                }
              }
              if (list.isEmpty()) {
                throw new UsageException(at + ": empty (expected: TLSv1.2, TLSv1.3 or both)");
              }
              yield tls.withProtocols(list);
            }
            case "ciphers" -> tls.withCiphers(texts(at, value));
            case "fallback_sni" -> tls.withFallbackSni(text(at, value));
            case "unknown_sni" ->
                switch (text(at, value)) {
                  case "default" -> tls.withRejectUnknownSni(false);
                  case "reject" -> tls.withRejectUnknownSni(true);
                  default ->
                      throw new UsageException(
                          at + ": \"" + value.asText() + "\" (expected: default or reject)");
                };
            case "provider" -> {
              var name = text(at, value);
              if (!Set.of("auto", "openssl", "jdk").contains(name)) {
                throw new UsageException(
                    at + ": \"" + name + "\" (expected: auto, openssl or jdk)");
              }
              yield tls.withProvider(name);
            }
            case "redirect_port" -> {
              int port = port(at, value.asText());
              if (port == 0) {
                throw new UsageException(at + ": 0 (expected: a port 1..65535)");
              }
              yield tls.withRedirectPort(port);
            }
            case "handshake_timeout" ->
                tls.withHandshakeTimeout(positive(at, seconds(at, value.asText())));
            default ->
                throw new UsageException(
                    at
                        + ": unknown setting (expected one of: "
                        + String.join(", ", sorted(TLS_FIELDS))
                        + ")");
          };
    }
    return tls;
  }

  /** {@code pubsub: {max_fetch_size: 1m, fetch_wait: 0.1, ...}}: limits of pub-sub sessions. */
  static PubSubSettings pubsub(Path file, JsonNode v, PubSubSettings pubsub) throws UsageException {
    if (!v.isObject()) {
      throw new UsageException(
          file + ": pubsub: expected a mapping (" + String.join(", ", sorted(PUBSUB_FIELDS)) + ")");
    }
    for (var e : v.properties()) {
      var at = file + ": pubsub." + e.getKey();
      var value = e.getValue().asText();
      pubsub =
          switch (e.getKey()) {
            case "max_frame_size" -> pubsub.withMaxFrameBytes(intBytes(at, value));
            case "max_fetch_size" -> pubsub.withMaxFetchBytes(intBytes(at, value));
            case "fetch_wait" -> pubsub.withFetchWait(positive(at, seconds(at, value)));
            case "broker_timeout" -> pubsub.withBrokerTimeout(positive(at, seconds(at, value)));
            case "consumers" -> pubsub.withConsumers(atLeastOne(at, count(at, value)));
            case "max_in_flight" -> pubsub.withMaxInFlight(atLeastOne(at, count(at, value)));
            case "idle_timeout" -> pubsub.withIdleTimeout(positive(at, seconds(at, value)));
            default ->
                throw new UsageException(
                    at
                        + ": unknown setting (expected one of: "
                        + String.join(", ", sorted(PUBSUB_FIELDS))
                        + ")");
          };
    }
    return pubsub;
  }

  /** {@code discovery: {kubernetes: {kubeconfig: FILE, api_server: URL}}}. */
  static KubernetesSettings discovery(Path file, JsonNode v, KubernetesSettings current)
      throws UsageException {
    var kubeconfig = current.kubeconfig();
    var kubeApi = current.apiServer();
    if (!v.isObject()) {
      throw new UsageException(file + ": discovery: expected a mapping (kubernetes)");
    }
    for (var e : v.properties()) {
      if (!e.getKey().equals("kubernetes")) {
        throw new UsageException(
            file + ": discovery." + e.getKey() + ": unknown discovery (expected: kubernetes)");
      }
      if (!e.getValue().isObject()) {
        throw new UsageException(
            file + ": discovery.kubernetes: expected a mapping (kubeconfig, api_server)");
      }
      for (var k : e.getValue().properties()) {
        var at = file + ": discovery.kubernetes." + k.getKey();
        switch (k.getKey()) {
          case "kubeconfig" -> kubeconfig = Path.of(text(at, k.getValue()));
          case "api_server" -> kubeApi = kubeApi(at, text(at, k.getValue()));
          default ->
              throw new UsageException(
                  at + ": unknown setting (expected one of: api_server, kubeconfig)");
        }
      }
    }
    return new KubernetesSettings(kubeconfig, kubeApi);
  }
}
