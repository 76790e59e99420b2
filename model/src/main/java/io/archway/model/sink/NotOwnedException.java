package io.archway.model.sink;

/** The key exists and belongs to someone else: a person, APISIX's Admin API, or another owner. */
public final class NotOwnedException extends Exception {

  public NotOwnedException(String message) {
    super(message, null, false, false);
  }
}
