package io.archway.dataplane.pipeline;

import io.archway.dataplane.exchange.HttpSyntax;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Map;

/**
 * The last look at what plugins changed before it is written out. Plugins fill headers and paths
 * from variables ({@code $arg_x}, {@code $http_y}, regex captures), and decoded variables can hold
 * CR, LF or NUL: written as they are, they would split the request to the node (a second request
 * smuggled behind the first) or the response to the client. What the client sent was checked by the
 * decoder; this checks what was made from it.
 */
final class OutboundCheck {

  private OutboundCheck() {}

  /** Whether a request rewritten by plugins can be written to a node as it is. */
  static boolean requestSafe(String target, HttpHeaders h) {
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= ' ' || c == 0x7f) {
        return false;
      }
    }
    for (var it = h.iteratorCharSequence(); it.hasNext(); ) {
      if (!fieldSafe(it.next())) {
        return false;
      }
    }
    return true;
  }

  private static boolean fieldSafe(Map.Entry<CharSequence, CharSequence> e) {
    var name = e.getKey();
    for (int i = 0; i < name.length(); i++) {
      if (!HttpSyntax.tchar(name.charAt(i))) {
        return false;
      }
    }
    var v = e.getValue();
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < 0x80 && !HttpSyntax.fieldValueChar(c)) {
        return false;
      }
    }
    return true;
  }
}
