package io.archway.dataplane.plugins;

import io.archway.dataplane.route.Variables;
import java.util.ArrayList;
import java.util.List;

/**
 * A value with APISIX's variables in it ({@code /v2$uri}, {@code ${http_x_user}-x}), split once
 * into literal parts and variable names; an unknown or missing variable becomes {@code ""}.
 */
final class Template {

  private final String[] literals;
  private final String[] names;

  private Template(String[] literals, String[] names) {
    this.literals = literals;
    this.names = names;
  }

  static Template of(String text) {
    var literals = new ArrayList<String>();
    var names = new ArrayList<String>();
    var lit = new StringBuilder();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '$' && i + 1 < text.length()) {
        int start = i + 1;
        boolean braced = text.charAt(start) == '{';
        int j = braced ? start + 1 : start;
        int nameStart = j;
        while (j < text.length()
            && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_')) {
          j++;
        }
        if (j > nameStart && (!braced || (j < text.length() && text.charAt(j) == '}'))) {
          literals.add(lit.toString());
          lit.setLength(0);
          names.add(text.substring(nameStart, j));
          i = braced ? j + 1 : j;
          continue;
        }
      }
      lit.append(c);
      i++;
    }
    literals.add(lit.toString());
    return new Template(literals.toArray(String[]::new), names.toArray(String[]::new));
  }

  boolean constant() {
    return names.length == 0;
  }

  List<String> variables() {
    return List.of(names);
  }

  String render(Variables vars) {
    if (names.length == 0) {
      return literals[0];
    }
    var out = new StringBuilder(literals[0]);
    for (int i = 0; i < names.length; i++) {
      var v = vars.get(names[i]);
      if (v != null) {
        out.append(v);
      }
      out.append(literals[i + 1]);
    }
    return out.toString();
  }
}
