package io.archway.dataplane.route;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.archway.model.BodyPath;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request body's fields for {@code post_arg.*} ({@link BodyPath}), parsed once per request from
 * the bytes read: a JSON body ({@code application/json}) as its tree, a form ({@code
 * application/x-www-form-urlencoded}, {@code multipart/form-data}) as an object of its fields (a
 * field sent more than once is the list of its values). Any other content type, a body that does
 * not parse, one that was not read (over the bound) or none at all has no fields: every {@code
 * post_arg.*} is then absent, so a condition on one is false ({@code ~=} true), as in APISIX. Read
 * on the request's event loop only.
 */
public final class BodyValues {

  /** The kinds of body {@code post_arg.*} reads. */
  public enum Kind {
    JSON,
    URLENCODED,
    MULTIPART
  }

  /** A body with no fields. */
  public static final BodyValues NONE = new BodyValues(null, null);

  // Strict: trailing tokens make a body malformed; duplicate keys keep the last, as cjson does.
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  private final Kind kind;
  private final JsonNode root;

  private BodyValues(Kind kind, JsonNode root) {
    this.kind = kind;
    this.root = root;
  }

  /** The kind of body a {@code Content-Type} names, or {@code null} for one with no fields. */
  public static Kind kindOf(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semi = contentType.indexOf(';');
    var media =
        (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    return switch (media) {
      case "application/json" -> Kind.JSON;
      case "application/x-www-form-urlencoded" -> Kind.URLENCODED;
      case "multipart/form-data" -> Kind.MULTIPART;
      default -> null;
    };
  }

  /** The fields of {@code body}, sent with {@code contentType}. */
  public static BodyValues parse(String contentType, byte[] body) {
    var kind = kindOf(contentType);
    if (kind == null) {
      return NONE;
    }
    return switch (kind) {
      case JSON -> {
        try {
          yield new BodyValues(kind, JSON.readTree(body));
        } catch (java.io.IOException e) {
          // Malformed (or nested deeper than Jackson's limit): no fields, as APISIX.
          yield NONE;
        }
      }
      case URLENCODED -> {
        try {
          yield new BodyValues(
              kind,
              form(
                  new QueryStringDecoder(
                          new String(body, StandardCharsets.UTF_8), StandardCharsets.UTF_8, false)
                      .parameters()));
        } catch (IllegalArgumentException e) {
          // A broken %-escape (found by BodyValuesFuzzTest: it threw on the event loop): the form
          // does not parse, so it has no fields.
          yield NONE;
        }
      }
      case MULTIPART -> {
        var fields = Multipart.fields(contentType, body);
        yield fields == null ? NONE : new BodyValues(kind, form(fields));
      }
    };
  }

  private static JsonNode form(Map<String, List<String>> fields) {
    var out = JsonNodeFactory.instance.objectNode();
    fields.forEach(
        (name, values) -> {
          if (values.size() == 1) {
            out.put(name, values.get(0));
          } else {
            var a = out.putArray(name);
            values.forEach(a::add);
          }
        });
    return out;
  }

  /** The kind of body these are the fields of, or {@code null} for none. */
  public Kind kind() {
    return kind;
  }

  /** The value of {@code path}: see {@link Variables#bodyValue}. */
  public Object get(BodyPath path) {
    if (root == null) {
      return null;
    }
    if (path.formOnly()) {
      // post_arg_<name>: the urlencoded form's field, its first value.
      if (kind != Kind.URLENCODED) {
        return null;
      }
      var v = root.get(((BodyPath.Field) path.steps().get(0)).name());
      return v == null ? null : scalar(v.isArray() ? v.get(0) : v);
    }
    if (kind != Kind.JSON && root.has(path.rawPath())) {
      // A form field may be named with dots or brackets ("user.name"): that name first.
      return value(root.get(path.rawPath()));
    }
    if (!path.many()) {
      var node = root;
      for (var step : path.steps()) {
        node =
            switch (step) {
              case BodyPath.Field f -> node.isObject() ? node.get(f.name()) : null;
              case BodyPath.Index i -> node.isArray() ? node.get(i.index()) : null;
              default -> null;
            };
        if (node == null) {
          return null;
        }
      }
      return value(node);
    }
    List<JsonNode> found = List.of(root);
    for (var step : path.steps()) {
      var next = new ArrayList<JsonNode>();
      for (var node : found) {
        switch (step) {
          case BodyPath.Field f -> addIfPresent(next, node.isObject() ? node.get(f.name()) : null);
          case BodyPath.Index i -> addIfPresent(next, node.isArray() ? node.get(i.index()) : null);
          case BodyPath.Every e -> {
            if (node.isContainerNode()) {
              node.forEach(next::add);
            }
          }
          case BodyPath.Descend d -> descend(node, d.name(), next, 0);
        }
      }
      found = next;
    }
    if (found.isEmpty()) {
      return null;
    }
    var out = new ArrayList<String>(found.size());
    for (var node : found) {
      var s = scalar(node);
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  private static void addIfPresent(List<JsonNode> out, JsonNode node) {
    if (node != null) {
      out.add(node);
    }
  }

  /** Every field named {@code name} below {@code node}, in document order. */
  private static void descend(JsonNode node, String name, List<JsonNode> out, int depth) {
    // Jackson refuses documents nested deeper than its limit (1000), so this recursion is bounded.
    if (node.isObject()) {
      var own = node.get(name);
      if (own != null) {
        out.add(own);
      }
      node.forEach(child -> descend(child, name, out, depth + 1));
    } else if (node.isArray()) {
      node.forEach(child -> descend(child, name, out, depth + 1));
    }
  }

  /** A JSON value as a variable's: its text, its array's scalars, or an empty list (an object). */
  private static Object value(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isArray()) {
      var out = new ArrayList<String>(node.size());
      for (var e : node) {
        var s = scalar(e);
        if (s != null) {
          out.add(s);
        }
      }
      return out;
    }
    if (node.isObject()) {
      return List.of();
    }
    return node.asText();
  }

  private static String scalar(JsonNode node) {
    return node == null || node.isContainerNode() || node.isNull() ? null : node.asText();
  }

  @Override
  public String toString() {
    return "BodyValues[" + kind + "]";
  }
}
