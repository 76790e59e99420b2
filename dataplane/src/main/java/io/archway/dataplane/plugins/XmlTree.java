package io.archway.dataplane.plugins;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * XML decoded to the table shape body-transformer's templates see in APISIX: xml2lua's parser
 * (white space around text stripped, text of white space only dropped, the five entities and
 * numeric ones expanded, CDATA kept as is, comments, declarations and DOCTYPE skipped) with its
 * {@code xmlhandler.tree} handler, then APISIX's {@code remove_namespace}. The handler's shape:
 *
 * <ul>
 *   <li>an element is a table of its children by name, its text in the array part, its attributes
 *       (if any) under {@code _attr};
 *   <li>an element's name maps to the list of its occurrences; a list of one is replaced by that
 *       one, and an element that is only one text and has no attributes by that text: {@code
 *       <a><b>x</b></a>} is {@code a.b == "x"}, {@code <b l="en">x</b>} is {@code b[1] == "x"}, two
 *       {@code <b>} are {@code b[1]}, {@code b[2]};
 *   <li>an empty element is {@code ""} (and replaces earlier elements of its name, as xml2lua);
 *   <li>{@code remove_namespace}: keys lose their prefix ({@code soap:Body} is {@code Body}), empty
 *       tables become {@code ""}.
 * </ul>
 */
final class XmlTree {

  private XmlTree() {}

  /**
   * The tree of {@code xml}.
   *
   * @throws IllegalArgumentException with xml2lua's message for what it refuses
   */
  static LuaTable parse(String xml) {
    var root = new LuaTable();
    Deque<LuaTable> stack = new ArrayDeque<>();
    Deque<String> names = new ArrayDeque<>();
    stack.push(root);
    int pos = 0;
    int n = xml.length();
    while (pos < n) {
      int lt = xml.indexOf('<', pos);
      if (lt < 0) {
        if (!xml.substring(pos).isBlank()) {
          throw new IllegalArgumentException("Error Parsing XML");
        }
        break;
      }
      text(stack.peek(), xml.substring(pos, lt), false);
      if (xml.startsWith("<!--", lt)) {
        int e = xml.indexOf("-->", lt + 4);
        if (e < 0) {
          throw new IllegalArgumentException("Error Parsing Comment");
        }
        pos = e + 3;
      } else if (xml.startsWith("<![CDATA[", lt)) {
        int e = xml.indexOf("]]>", lt + 9);
        if (e < 0) {
          throw new IllegalArgumentException("Error Parsing CDATA");
        }
        text(stack.peek(), xml.substring(lt + 9, e), true);
        pos = e + 3;
      } else if (xml.startsWith("<?", lt)) {
        int e = xml.indexOf("?>", lt + 2);
        if (e < 0) {
          throw new IllegalArgumentException("Error Parsing XMLDecl");
        }
        pos = e + 2;
      } else if (xml.startsWith("<!DOCTYPE", lt)) {
        int e = doctypeEnd(xml, lt);
        pos = e + 1;
      } else {
        int gt = tagEnd(xml, lt + 1);
        if (gt < 0) {
          throw new IllegalArgumentException("Error Parsing XML");
        }
        var tag = xml.substring(lt + 1, gt);
        pos = gt + 1;
        if (tag.startsWith("/")) {
          var name = tag.substring(1).strip();
          if (names.isEmpty() || !names.pop().equals(name)) {
            throw new IllegalArgumentException("Unbalanced Tag (/" + name + ")");
          }
          end(stack, root, name);
        } else {
          boolean selfClosing = tag.endsWith("/");
          if (selfClosing) {
            tag = tag.substring(0, tag.length() - 1);
          }
          var name = tagName(tag);
          if (name.isEmpty()) {
            throw new IllegalArgumentException("Error Parsing XML");
          }
          var attrs = attributes(tag.substring(name.length()));
          start(stack, name, attrs);
          if (selfClosing) {
            end(stack, root, name);
          } else {
            names.push(name);
          }
        }
      }
    }
    if (!names.isEmpty()) {
      throw new IllegalArgumentException("Incomplete XML Document");
    }
    return removeNamespace(root);
  }

  private static int doctypeEnd(String xml, int from) {
    int depth = 0;
    for (int i = from; i < xml.length(); i++) {
      char c = xml.charAt(i);
      if (c == '[') {
        depth++;
      } else if (c == ']') {
        depth--;
      } else if (c == '>' && depth <= 0) {
        return i;
      }
    }
    throw new IllegalArgumentException("Error Parsing DTD");
  }

  private static int tagEnd(String xml, int from) {
    char quote = 0;
    for (int i = from; i < xml.length(); i++) {
      char c = xml.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        return i;
      }
    }
    return -1;
  }

  private static String tagName(String tag) {
    int i = 0;
    while (i < tag.length() && !Character.isWhitespace(tag.charAt(i))) {
      i++;
    }
    return tag.substring(0, i);
  }

  private static final java.util.regex.Pattern ATTR =
      java.util.regex.Pattern.compile("([\\w\\-:]+)\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)')");

  private static LuaTable attributes(String s) {
    var m = ATTR.matcher(s);
    LuaTable t = null;
    while (m.find()) {
      if (t == null) {
        t = new LuaTable();
      }
      t.put(m.group(1), entities(m.group(2) != null ? m.group(2) : m.group(3)));
    }
    return t;
  }

  private static void text(LuaTable current, String raw, boolean cdata) {
    var t = cdata ? raw : entities(raw.strip());
    if (!t.isEmpty()) {
      current.add(t);
    }
  }

  private static void start(Deque<LuaTable> stack, String name, LuaTable attrs) {
    var node = new LuaTable();
    if (attrs != null) {
      node.put("_attr", attrs);
    }
    var current = stack.peek();
    var list = current.get(name);
    if (list instanceof LuaTable l) {
      l.add(node);
    } else if (list != null) {
      // xml2lua: table.insert into the "" an earlier empty element left fails.
      throw new IllegalArgumentException(
          "bad argument #1 to 'insert' (table expected, got string) at <" + name + ">");
    } else {
      var l = new LuaTable();
      l.add(node);
      current.put(name, l);
    }
    stack.push(node);
  }

  private static void end(Deque<LuaTable> stack, LuaTable root, String name) {
    var current = stack.pop();
    var prev = stack.peek();
    if (prev.get(name) == null) {
      throw new IllegalArgumentException("XML Error - Unmatched Tag [" + name + "]");
    }
    if (prev == root) {
      reduce(root, null, null);
    }
    if (current.isEmpty()) {
      current.put(name, "");
      prev.put(name, "");
    }
  }

  /** xml2lua's {@code tree:reduce}: lists of one, and elements of one text, are replaced. */
  private static void reduce(LuaTable node, Object key, LuaTable parent) {
    for (int i = 0; i < node.array.size(); i++) {
      if (node.array.get(i) instanceof LuaTable t) {
        reduce(t, (double) (i + 1), node);
      }
    }
    for (var e : new ArrayList<>(node.hash.entrySet())) {
      if (e.getValue() instanceof LuaTable t) {
        reduce(t, e.getKey(), node);
      }
    }
    if (node.length() == 1 && node.get("_attr") == null && parent != null) {
      parent.put(key, node.get(1.0));
    }
  }

  /** APISIX's {@code remove_namespace}: a new table, keys without prefix, {} as "". */
  private static LuaTable removeNamespace(LuaTable t) {
    var res = new LuaTable();
    for (var v : t.array) {
      res.array.add(v instanceof LuaTable c ? (c.isEmpty() ? "" : removeNamespace(c)) : v);
    }
    for (Map.Entry<Object, Object> e : t.hash.entrySet()) {
      var v = e.getValue();
      if (v instanceof LuaTable c) {
        v = c.isEmpty() ? "" : removeNamespace(c);
      }
      var k = e.getKey();
      if (k instanceof String s && s.lastIndexOf(':') >= 0) {
        k = s.substring(s.lastIndexOf(':') + 1);
      }
      res.put(k, v);
    }
    return res;
  }

  /** xml2lua's entities: the five named ones and numeric ones below 256. */
  static String entities(String s) {
    if (s.indexOf('&') < 0) {
      return s;
    }
    var b = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      int semi = c == '&' ? s.indexOf(';', i) : -1;
      if (semi > i) {
        var ent = s.substring(i + 1, semi);
        String rep =
            switch (ent) {
              case "lt" -> "<";
              case "gt" -> ">";
              case "amp" -> "&";
              case "quot" -> "\"";
              case "apos" -> "'";
              default -> numeric(ent);
            };
        if (rep != null) {
          b.append(rep);
          i = semi + 1;
          continue;
        }
      }
      b.append(c);
      i++;
    }
    return b.toString();
  }

  private static String numeric(String ent) {
    try {
      int code;
      if (ent.matches("#\\d+")) {
        code = Integer.parseInt(ent.substring(1));
      } else if (ent.matches("#x[0-9a-fA-F]+")) {
        code = Integer.parseInt(ent.substring(2), 16);
      } else {
        return null;
      }
      return code < 256 ? String.valueOf((char) code) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** For tests: the text values of a list of tables. */
  static List<Object> values(LuaTable t) {
    return t.array;
  }
}
