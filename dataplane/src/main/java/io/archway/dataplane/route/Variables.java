package io.archway.dataplane.route;

import io.archway.model.BodyPath;
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

  /**
   * The value of a request-body variable ({@code post_arg.*}): {@code null} when there is none (no
   * such field, a body of another content type, not read), a {@code String} (a scalar, as text), or
   * a {@code List<String>} (an array's scalars, or what a path with {@code [*]} or {@code ..}
   * found; an object is an empty list: present, but equal to nothing).
   */
  default Object bodyValue(BodyPath path) {
    return null;
  }
}
