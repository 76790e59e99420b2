package io.archway.model.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The APISIX-format JSON fixtures under {@code fixtures/valid/<dir>/} and {@code
 * fixtures/invalid/<dir>/} (with a {@code .txt} of the expected problems beside each invalid one),
 * shared by the model's, the dataplane's and the operator's tests.
 */
public final class Fixtures {

  private Fixtures() {}

  /** One fixture: its kind, name (file name without {@code .json}) and JSON. */
  public record Fixture(Kind kind, String name, Path file) {

    public JsonNode json() {
      try {
        return ModelJson.mapper().readTree(Files.readAllBytes(file));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The expected problem lines of an invalid fixture. */
    public List<String> expectedProblems() {
      try {
        return Files.readAllLines(file.resolveSibling(name + ".txt")).stream()
            .filter(l -> !l.isBlank())
            .toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public String toString() {
      return kind.dir() + "/" + name;
    }
  }

  public static List<Fixture> valid() {
    return list("valid");
  }

  public static List<Fixture> invalid() {
    return list("invalid");
  }

  private static List<Fixture> list(String group) {
    try {
      var url = Fixtures.class.getResource("/fixtures/" + group);
      if (url == null) {
        throw new IllegalStateException("fixtures/" + group + " not on the class path");
      }
      if (url.getProtocol().equals("jar")) {
        // From the model's test jar (another module's tests): its files through a zip file
        // system, left open for the fixtures' paths.
        try {
          FileSystems.newFileSystem(url.toURI(), Map.of());
        } catch (FileSystemAlreadyExistsException e) {
          // opened by an earlier call
        }
      }
      var root = Path.of(url.toURI());
      try (Stream<Path> files = Files.walk(root)) {
        return files
            .filter(p -> p.toString().endsWith(".json"))
            .sorted()
            .map(
                p -> {
                  var kind =
                      Kind.ofDir(p.getParent().getFileName().toString())
                          .orElseThrow(() -> new IllegalStateException("no kind for " + p));
                  var name = p.getFileName().toString().replaceFirst("\\.json$", "");
                  return new Fixture(kind, name, p);
                })
            .toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
