package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Header changes in proxy-rewrite's and response-rewrite's {@code {set, add, remove}} shape. */
final class HeaderOps {
  private final Map<String, String> set = new TreeMap<>();
  private final Map<String, String> add = new TreeMap<>();
  private final Set<String> remove = new java.util.TreeSet<>();

  void add(List<HeaderValueOption> adds, List<String> removes, String where) throws XdsException {
    for (var o : adds) {
      var h = o.getHeader();
      var name = h.getKey().toLowerCase(Locale.ROOT);
      var value = h.getValue().isEmpty() ? h.getRawValue().toStringUtf8() : h.getValue();
      if (ENVOY_FORMAT.matcher(value).find() || value.contains("$")) {
        throw new XdsException(
            where
                + ": header "
                + q(name)
                + ": value "
                + q(value)
                + ": Envoy's %COMMAND% formatting and $ not supported (expected: a literal)");
      }
      boolean append =
          o.hasAppend()
              ? o.getAppend().getValue()
              : o.getAppendAction() == HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD;
      if (o.getAppendAction() == HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT
          || o.getAppendAction() == HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS) {
        throw new XdsException(
            where
                + ": header "
                + q(name)
                + ": append_action "
                + o.getAppendAction()
                + " not supported (expected: APPEND_IF_EXISTS_OR_ADD or"
                + " OVERWRITE_IF_EXISTS_OR_ADD)");
      }
      if (append) {
        add.put(name, value);
        set.remove(name);
      } else {
        set.put(name, value);
        add.remove(name);
      }
      remove.remove(name);
    }
    for (var r : removes) {
      var name = r.toLowerCase(Locale.ROOT);
      remove.add(name);
      set.remove(name);
      add.remove(name);
    }
  }

  boolean isEmpty() {
    return set.isEmpty() && add.isEmpty() && remove.isEmpty();
  }

  JsonNode toJson() {
    var out = J.objectNode();
    if (!set.isEmpty()) {
      var s = out.putObject("set");
      set.forEach(s::put);
    }
    if (!add.isEmpty()) {
      var a = out.putObject("add");
      add.forEach(a::put);
    }
    if (!remove.isEmpty()) {
      var r = out.putArray("remove");
      remove.forEach(r::add);
    }
    return out;
  }
}
