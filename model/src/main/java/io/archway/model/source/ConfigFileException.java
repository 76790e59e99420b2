package io.archway.model.source;

import java.util.List;

/**
 * A standalone config file that cannot be used: missing, unreadable, not YAML, incomplete (no
 * {@code #END} yet) or holding invalid objects. {@link #lines()} lists every problem, each naming
 * the file, the object and the field.
 */
public final class ConfigFileException extends Exception {

  private final List<String> lines;
  private final boolean incomplete;

  public ConfigFileException(List<String> lines, boolean incomplete) {
    super(String.join("\n", lines), null, false, false);
    this.lines = List.copyOf(lines);
    this.incomplete = incomplete;
  }

  public List<String> lines() {
    return lines;
  }

  /** The file has no final {@code #END} line: a write still in progress. */
  public boolean incomplete() {
    return incomplete;
  }
}
