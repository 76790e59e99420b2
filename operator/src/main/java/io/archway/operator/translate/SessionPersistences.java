package io.archway.operator.translate;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.SessionPersistence;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A route rule's {@code sessionPersistence} (Gateway API, experimental) as the {@code
 * session_persistence} of the rule's upstreams: the route's own and every {@code traffic-split}
 * entry's, so that a session sticks to its node across the rule's backends.
 *
 * <p>{@code sessionName} defaults to {@value #DEFAULT_NAME}. What cannot be served as written is
 * warned about and left out, as the translators do with other bad values (a duration that does not
 * parse is ignored; {@code Permanent} without {@code absoluteTimeout}, which the spec forbids,
 * gives a session cookie; a name that is not an HTTP token gives the default name).
 */
final class SessionPersistences {

  static final String DEFAULT_NAME = "archway-session";
  private static final Pattern TOKEN = Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$");

  private SessionPersistences() {}

  /** The model's {@code session_persistence} for {@code sp}, or {@code null} without one. */
  static ObjectNode model(SessionPersistence sp, String at, Consumer<String> warn) {
    if (sp == null) {
      return null;
    }
    var out = JsonNodeFactory.instance.objectNode();
    boolean header = "Header".equals(sp.getType());
    if (sp.getType() != null && !header && !"Cookie".equals(sp.getType())) {
      warn.accept(at + ".type: " + Exprs.show(sp.getType()) + " is not Cookie or Header (Cookie)");
    }
    out.put("type", header ? "header" : "cookie");
    var name = sp.getSessionName();
    if (name != null && !TOKEN.matcher(name).matches()) {
      warn.accept(
          at
              + ".sessionName: "
              + Exprs.show(name)
              + " is not an HTTP token (served as "
              + DEFAULT_NAME
              + ")");
      name = null;
    }
    out.put("name", name == null ? DEFAULT_NAME : name);
    var absolute = Durations.positive(sp.getAbsoluteTimeout(), at + ".absoluteTimeout", warn);
    if (absolute != null) {
      out.put("absolute_timeout", absolute);
    }
    var idle = Durations.positive(sp.getIdleTimeout(), at + ".idleTimeout", warn);
    if (idle != null) {
      out.put("idle_timeout", idle);
    }
    var lifetime = sp.getCookieConfig() == null ? null : sp.getCookieConfig().getLifetimeType();
    if ("Permanent".equals(lifetime)) {
      if (header) {
        warn.accept(at + ".cookieConfig: set with type Header (ignored)");
      } else if (absolute == null) {
        warn.accept(
            at
                + ".cookieConfig.lifetimeType: Permanent without absoluteTimeout (served as a"
                + " session cookie)");
      } else {
        out.put("lifetime", "permanent");
      }
    }
    return out;
  }

  /**
   * Sets {@code session} on the route's upstream and on the upstream of each {@code traffic-split}
   * entry in {@code plugins}.
   */
  static void apply(ObjectNode session, ObjectNode route, ObjectNode plugins) {
    if (session == null) {
      return;
    }
    var fields = JsonNodeFactory.instance.objectNode();
    fields.set("session_persistence", session);
    HTTPRouteTranslator.setOnRuleUpstreams(route, plugins, fields);
  }
}
