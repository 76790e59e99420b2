package io.archway.dataplane.config.xds;

/**
 * An xDS resource Archway cannot serve as written: the update that carries it is NACKed with this
 * message as its {@code error_detail}. The message names the resource and the field, e.g. {@code
 * cluster "reviews": lb_policy: RANDOM (expected: ROUND_ROBIN, LEAST_REQUEST, RING_HASH or
 * MAGLEV)}.
 */
final class XdsException extends Exception {

  XdsException(String message) {
    super(message, null, false, false);
  }
}
