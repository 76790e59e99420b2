package io.archway.dataplane.config.xds;

import io.grpc.Channel;
import java.util.Set;

/**
 * One variant of the ADS protocol, state of the world ({@link XdsSotwStream}) or delta ({@link
 * XdsDeltaStream}): how requests, ACKs and NACKs are written and responses read. What is accepted,
 * when, and what is delivered is the source's, the same for both. Used on the source's thread.
 */
interface XdsStream {

  /** Opens stream {@code id} and asks for what the source follows, with the versions it has. */
  void open(Channel channel, int id);

  /** The names of {@code type} followed changed to {@code names}. */
  void follow(String type, Set<String> names);

  /** The stream broke: what belonged to it (nonces) is forgotten. */
  void broken();

  /** Ends the stream (closing). */
  void cancel();

  /**
   * Answers a state-of-the-world response once {@code verdict} is known: a NACK with its error, or
   * an ACK, after which the source follows what changed and delivers.
   */
  static void answer(
      XdsConfigSource source,
      XdsConfigSource.Verdict verdict,
      io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.Builder answer,
      java.util.function.Consumer<io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest> send) {
    if (verdict.error() != null) {
      send.accept(answer.setErrorDetail(error(verdict.error())).build());
      return;
    }
    send.accept(answer.build());
    source.accepted();
  }

  /** A NACK's {@code error_detail}. */
  static com.google.rpc.Status error(String message) {
    return com.google.rpc.Status.newBuilder()
        .setCode(com.google.rpc.Code.INVALID_ARGUMENT_VALUE)
        .setMessage(message)
        .build();
  }
}
