package io.archway.model.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** File helpers for tests that feed a file-watching source. */
public final class TestFiles {

  private TestFiles() {}

  /**
   * Writes {@code content} beside {@code target} and renames it over the target, as editors and
   * deploy tools do, so a poller never sees half a file.
   */
  public static Path replaceAtomically(Path target, String content) throws IOException {
    var tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, content);
    return Files.move(
        tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
