package io.archway.dataplane.route;

import java.net.InetAddress;

/**
 * Named values an APISIX expression ({@code vars}, a logger's {@code filter}) is evaluated over: an
 * HTTP request's variables, or a proxied Redis command's.
 */
public interface Variables {

  /** The value of {@code name}, or {@code null} when there is none. */
  String get(String name);

  /** The client's address, for {@code ipmatch} on {@code remote_addr}; may be {@code null}. */
  InetAddress remoteAddress();
}
