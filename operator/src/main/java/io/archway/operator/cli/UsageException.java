package io.archway.operator.cli;

/** A bad command line, or files that cannot be read; exit status 2. */
final class UsageException extends Exception {
  UsageException(String message) {
    super(message, null, false, false);
  }
}
