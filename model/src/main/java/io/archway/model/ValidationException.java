package io.archway.model;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A config object failed validation. Carries every problem found, not only the first, each prefixed
 * with the object it belongs to: {@code routes/7: uris[0]: "" (expected: starts with "/")}.
 */
public final class ValidationException extends Exception {

  private final String object;
  private final List<Problem> problems;

  public ValidationException(String object, List<Problem> problems) {
    super(render(object, problems), null, false, false);
    this.object = object;
    this.problems = List.copyOf(problems);
  }

  /** The object at fault, as {@code <dir>/<id>} or a file position. */
  public String object() {
    return object;
  }

  public List<Problem> problems() {
    return problems;
  }

  /** One line per problem, each starting with the object. */
  public List<String> lines() {
    return problems.stream().map(p -> object + ": " + p).toList();
  }

  private static String render(String object, List<Problem> problems) {
    return problems.stream().map(p -> object + ": " + p).collect(Collectors.joining("; "));
  }
}
