package io.archway.model.source;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A standalone config file that cannot be used: missing, unreadable, not YAML, incomplete (no
 * {@code #END} yet) or holding invalid objects. {@link #lines()} lists every problem, each naming
 * the file, the object and the field; {@link #spots()} says where in the file each one is, as far
 * as it is known, for messages of the {@code file:line:} kind ({@link YamlLines}).
 */
public final class ConfigFileException extends Exception {

  /**
   * Where a problem is: a JSON pointer into the document ({@code /routes/0/plugins/key-auth}), or a
   * line when the problem is not in a value (YAML syntax, an unset variable), or neither.
   *
   * @param pointer the value at fault, or {@code null}
   * @param line the 1-based line, or 0 when only the pointer says where
   */
  public record Spot(String pointer, int line) {
    public static final Spot NONE = new Spot(null, 0);
  }

  private final List<String> lines;
  private final List<Spot> spots;
  private final boolean incomplete;

  public ConfigFileException(List<String> lines, boolean incomplete) {
    this(lines, Collections.nCopies(lines.size(), Spot.NONE), incomplete);
  }

  /**
   * @param spots where each of {@code lines} is, in the same order and as many
   */
  public ConfigFileException(List<String> lines, List<Spot> spots, boolean incomplete) {
    super(String.join("\n", lines), null, false, false);
    if (spots.size() != lines.size()) {
      throw new IllegalArgumentException(lines.size() + " lines, " + spots.size() + " spots");
    }
    this.lines = List.copyOf(lines);
    this.spots = List.copyOf(new ArrayList<>(spots));
    this.incomplete = incomplete;
  }

  public List<String> lines() {
    return lines;
  }

  /** Where each of {@link #lines()} is, in the same order. */
  public List<Spot> spots() {
    return spots;
  }

  /** The file has no final {@code #END} line: a write still in progress. */
  public boolean incomplete() {
    return incomplete;
  }
}
