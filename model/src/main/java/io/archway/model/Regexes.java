package io.archway.model;

final class Regexes {

  private Regexes() {}

  /** The value compiles as a user's regular expression ({@link UserRegex}: RE2 syntax). */
  static final Fields.Check VALID = UserRegex::problem;
}
