package io.archway.model.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Structure-aware mutations of config JSON for the fuzz tests (docs/fuzzing.md): a node anywhere in
 * the tree is replaced by a value of another type or an edge value, a field is removed or added, a
 * list element is duplicated. Starting from valid objects, most results are almost valid, which is
 * where validation has its corner cases.
 */
public final class JsonMutator {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private static final String[] STRINGS = {
    "",
    " ",
    "/",
    "/*",
    "*",
    "0",
    "-1",
    "1e309",
    "NaN",
    "true",
    "null",
    "127.0.0.1",
    "127.0.0.1:0",
    "::1",
    "10.0.0.0/33",
    "a.b",
    "http://127.0.0.1:1",
    "${x}",
    "((",
    "[a-",
    ".*",
    "\u0000",
    "é",
    "x".repeat(300),
    "roundrobin",
    "chash",
    "GET",
    "AND",
    "==",
    "~~",
    "!",
  };

  private JsonMutator() {}

  /** {@code json} (not changed) with {@code n} random mutations. */
  public static JsonNode mutate(JsonNode json, Random r, int n) {
    var root = json.deepCopy();
    for (int i = 0; i < n; i++) {
      var holder = F.arrayNode().add(root);
      var containers = new ArrayList<JsonNode>();
      collect(holder, containers);
      var c = containers.get(r.nextInt(containers.size()));
      mutateIn(c, r);
      root = holder.get(0);
    }
    return root;
  }

  private static void collect(JsonNode node, List<JsonNode> out) {
    if (node.isContainerNode()) {
      out.add(node);
      node.forEach(child -> collect(child, out));
    }
  }

  private static void mutateIn(JsonNode container, Random r) {
    if (container instanceof ObjectNode o) {
      var names = new ArrayList<String>();
      o.fieldNames().forEachRemaining(names::add);
      int what = names.isEmpty() ? 2 : r.nextInt(3);
      switch (what) {
        case 0 -> o.set(names.get(r.nextInt(names.size())), value(r, 3));
        case 1 -> o.remove(names.get(r.nextInt(names.size())));
        default ->
            o.set(r.nextBoolean() && !names.isEmpty() ? names.get(0) + "_x" : key(r), value(r, 2));
      }
    } else if (container instanceof ArrayNode a) {
      int what = a.isEmpty() ? 2 : r.nextInt(4);
      switch (what) {
        case 0 -> a.set(r.nextInt(a.size()), value(r, 3));
        case 1 -> a.remove(r.nextInt(a.size()));
        case 2 -> a.add(value(r, 2));
        default -> a.add(a.get(r.nextInt(a.size())).deepCopy());
      }
    }
  }

  private static String key(Random r) {
    return new String[] {"id", "uri", "uris", "upstream", "nodes", "plugins", "vars", "type", "x"}
        [r.nextInt(9)];
  }

  /** A random value: scalars at the edges of their types, small arrays and objects. */
  public static JsonNode value(Random r, int depth) {
    int kind = r.nextInt(depth > 0 ? 11 : 8);
    return switch (kind) {
      case 0 -> F.nullNode();
      case 1 -> F.booleanNode(r.nextBoolean());
      case 2 ->
          F.numberNode(
              new long[] {0, 1, -1, 65535, 65536, Integer.MAX_VALUE, Long.MIN_VALUE}[r.nextInt(7)]);
      case 3 -> F.numberNode(new double[] {0.5, -0.0, 1e300, -1e-300, 3.0}[r.nextInt(5)]);
      case 4 -> F.numberNode(new java.math.BigInteger("99999999999999999999999"));
      case 5, 6, 7 -> F.textNode(STRINGS[r.nextInt(STRINGS.length)]);
      case 8, 9 -> {
        var a = F.arrayNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          a.add(value(r, depth - 1));
        }
        yield a;
      }
      default -> {
        var o = F.objectNode();
        for (int i = r.nextInt(3); i > 0; i--) {
          o.set(key(r), value(r, depth - 1));
        }
        yield o;
      }
    };
  }
}
