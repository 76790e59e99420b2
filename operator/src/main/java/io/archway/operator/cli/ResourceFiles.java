package io.archway.operator.cli;

import io.archway.operator.translate.ClaimIndex;
import io.archway.operator.translate.Manifests;
import io.archway.operator.translate.Refs;
import io.archway.operator.translate.Translation;
import io.archway.operator.translate.Translators;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code -f FILE|DIR [-f ...] [-n NS]}: the resource files translate, validate and flow read. */
final class ResourceFiles {

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE|DIR",
      description = "resource files (.yaml, .yml, .json; directories are walked)")
  List<String> filenames = new ArrayList<>();

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "namespace of resources that name none (default: default)")
  String namespace = "default";

  /** The files read, every resource in them kept with where it came from. */
  Manifests read(String discovery) throws UsageException {
    if (filenames.isEmpty()) {
      throw new UsageException("-f FILE|DIR is required");
    }
    var m = new Manifests(namespace, controlPlaneDiscovery(discovery));
    for (var f : filenames) {
      var p = Path.of(f);
      if (!Files.exists(p)) {
        throw new UsageException("-f " + f + ": no such file or directory");
      }
      try {
        m.read(p);
      } catch (IOException e) {
        throw new UsageException("-f " + f + ": " + e.getMessage());
      }
    }
    return m;
  }

  /** Each translatable resource with its translation, conflicts included. */
  static Map<Manifests.Doc, Translation> translateAll(Manifests m) {
    var out = new LinkedHashMap<Manifests.Doc, Translation>();
    // Every claim computed once, then each resource checked against the older ones.
    var claims = ClaimIndex.of(m.docs().stream().map(Manifests.Doc::resource).toList(), m);
    for (var d : m.docs()) {
      Translators.translate(d.resource(), m)
          .ifPresent(
              t -> {
                claims.check(d.resource(), Translators.claims(d.resource(), m), t);
                d.unknownFields()
                    .forEach(
                        f ->
                            t.errors()
                                .add(
                                    new Translation.FieldError(
                                        f,
                                        "unknown field (the API server would drop it; check the"
                                            + " spelling)")));
                out.put(d, t);
              });
    }
    return out;
  }

  /** {@code --control-plane-discovery off|marked|all}. */
  static Refs.ControlPlaneDiscovery controlPlaneDiscovery(String v) throws UsageException {
    try {
      return Refs.ControlPlaneDiscovery.valueOf(v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          "--control-plane-discovery: \"" + v + "\" (expected: off, marked or all)");
    }
  }

  /** {@code text} to {@code -o FILE}, or to {@code out} without one. */
  static void write(String file, CharSequence text, java.io.PrintStream out) throws UsageException {
    if (file == null) {
      out.print(text);
      return;
    }
    try {
      Files.writeString(Path.of(file), text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UsageException("-o " + file + ": " + e.getMessage());
    }
  }
}
