package io.archway.model;

/**
 * One thing wrong with a config object: where it is ({@code uris[0]}) and what was expected.
 *
 * @param path the field path inside the object, empty for the object itself
 * @param message what is wrong, e.g. {@code "" (expected: starts with "/")}
 */
public record Problem(String path, String message) {

  @Override
  public String toString() {
    return path.isEmpty() ? message : path + ": " + message;
  }
}
