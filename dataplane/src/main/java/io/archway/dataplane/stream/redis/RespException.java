package io.archway.dataplane.stream.redis;

/** Bytes that are not RESP; the message follows {@code -ERR Protocol error: }. */
final class RespException extends RuntimeException {
  RespException(String message) {
    super(message, null, false, false);
  }
}
