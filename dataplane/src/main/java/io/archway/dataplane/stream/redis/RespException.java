package io.archway.dataplane.stream.redis;

/** Bytes that are not RESP; the message follows {@code -ERR Protocol error: }. */
public final class RespException extends RuntimeException {
  public RespException(String message) {
    super(message, null, false, false);
  }
}
