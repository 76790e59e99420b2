package io.archway.bench;

import io.archway.model.PluginSchemas;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How many of the plugins APISIX documents Archway runs, by APISIX's categories: each is run (it
 * has a schema and a class), refused on purpose with a reason, or not run yet (a named error). Read
 * from the same {@link PluginSchemas} the dataplane and the operator check with, so the report
 * follows the code.
 *
 * <p>Usage: {@code bench/run plugin-coverage}
 */
public final class PluginCoverage {

  private PluginCoverage() {}

  record Row(String category, List<String> runs, List<String> refused, List<String> missing) {}

  public static void main(String[] args) {
    BenchSupport.main(args, PluginCoverage::run);
  }

  static void run(String[] args) throws Exception {
    var rows = new LinkedHashMap<String, Row>();
    for (var entry : apisixPlugins().entrySet()) {
      var category = entry.getValue();
      var name = entry.getKey();
      var row =
          rows.computeIfAbsent(
              category, c -> new Row(c, new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
      // A stream-only plugin (mqtt-proxy) runs on stream routes, with a stream schema.
      if (PluginSchemas.runs(name)
          || (category.equals("stream") && io.archway.model.StreamPluginSchemas.runs(name))) {
        row.runs().add(name);
      } else if (PluginSchemas.refusal(name).isPresent()) {
        row.refused().add(name);
      } else {
        row.missing().add(name);
      }
    }
    int runs = 0;
    int refused = 0;
    int total = 0;
    System.out.println(
        "| APISIX category | plugins | run by Archway | refused on purpose | not yet |");
    System.out.println("|---|---:|---:|---:|---|");
    for (var r : rows.values()) {
      int n = r.runs().size() + r.refused().size() + r.missing().size();
      System.out.printf(
          "| %s | %d | %d | %d | %s |%n",
          r.category(),
          n,
          r.runs().size(),
          r.refused().size(),
          r.missing().isEmpty() ? "" : String.join(", ", r.missing()));
      runs += r.runs().size();
      refused += r.refused().size();
      total += n;
    }
    System.out.printf(
        "| **all** | **%d** | **%d (%.0f%%)** | **%d** | **%d** |%n",
        total, runs, 100.0 * runs / total, refused, total - runs - refused);
    var extra = new ArrayList<String>();
    var listed = apisixPlugins().keySet();
    for (var name : PluginSchemas.withSchema()) {
      if (!listed.contains(name)) {
        extra.add(name);
      }
    }
    System.out.println();
    System.out.println(
        "Run by Archway beyond APISIX's list: "
            + (extra.isEmpty() ? "none" : String.join(", ", extra)));
  }

  /** APISIX's documented plugins, name to category, in the list's order. */
  static Map<String, String> apisixPlugins() throws Exception {
    var out = new LinkedHashMap<String, String>();
    try (var in =
        new BufferedReader(
            new InputStreamReader(
                Objects.requireNonNull(
                    PluginCoverage.class.getResourceAsStream("apisix-plugins.txt")),
                StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        var parts = line.split("\\s+");
        out.putIfAbsent(parts[1], parts[0]);
      }
    }
    return out;
  }
}
