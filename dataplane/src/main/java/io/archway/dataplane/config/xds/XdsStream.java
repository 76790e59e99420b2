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

  /** A NACK's {@code error_detail}. */
  static com.google.rpc.Status error(String message) {
    return com.google.rpc.Status.newBuilder()
        .setCode(com.google.rpc.Code.INVALID_ARGUMENT_VALUE)
        .setMessage(message)
        .build();
  }
}
