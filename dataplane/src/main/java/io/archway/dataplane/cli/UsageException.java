package io.archway.dataplane.cli;

import picocli.CommandLine;

/**
 * A bad command line or config file; the message is for the user. {@link #parseError} keeps
 * picocli's view of it, when it saw it first, for its suggestions ("Did you mean ...").
 */
final class UsageException extends Exception {

  private final transient CommandLine.ParameterException parseError;

  UsageException(String message) {
    this(message, null);
  }

  UsageException(String message, CommandLine.ParameterException parseError) {
    super(message, null, false, false);
    this.parseError = parseError;
  }

  /** picocli's error, or {@code null} when the options parsed and a value did not check out. */
  CommandLine.ParameterException parseError() {
    return parseError;
  }
}
