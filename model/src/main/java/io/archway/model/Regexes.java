package io.archway.model;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

final class Regexes {

  private Regexes() {}

  /** The value compiles as a regular expression (compiled here once, when the config is read). */
  static final Fields.Check VALID =
      s -> {
        try {
          Pattern.compile(s);
          return null;
        } catch (PatternSyntaxException e) {
          return "a valid regular expression: " + e.getDescription();
        }
      };
}
