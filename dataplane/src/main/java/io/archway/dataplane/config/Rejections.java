package io.archway.dataplane.config;

import io.archway.model.Keys;
import io.archway.model.Kind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The error collection of one compile: how many objects of each kind are not in force, and the
 * warning that says why, one per object when it is compiled. An object that did not change is not
 * compiled again, so its warning is not repeated; its kind's compiler counts it again from what it
 * kept ({@link #count}). Warnings go to {@link ConfigCompiler}'s logger, whichever kind's compiler
 * writes them.
 */
final class Rejections {

  static final Logger log = LoggerFactory.getLogger(ConfigCompiler.class);

  private final EnumMap<Kind, Integer> counts = new EnumMap<>(Kind.class);
  private final List<String> messages = new ArrayList<>();

  /**
   * Logs that an object is left out, and counts it.
   *
   * @param outcome what leaving it out means: {@code not served}, {@code not used}, {@code not run}
   */
  void reject(Kind kind, String id, String outcome, String why) {
    warn(kind, id, outcome, why);
    message(kind, id, outcome, why);
    count(kind, 1);
  }

  /** Records the warning of an object left out, logged and counted by the caller. */
  void message(Kind kind, String id, String outcome, String why) {
    messages.add(Keys.item(kind, id) + ": " + outcome + ": " + why);
  }

  /** Logs that an object is left out, without counting it (counted elsewhere, or not at all). */
  static void warn(Kind kind, String id, String outcome, String why) {
    log.warn("{}: {}: {}", Keys.item(kind, id), outcome, why);
  }

  /** Counts objects left out whose warning was logged when they were compiled. */
  void count(Kind kind, int n) {
    counts.merge(kind, n, Integer::sum);
  }

  /** The warnings {@link #reject} logged in this compile, as logged. */
  List<String> messages() {
    return messages;
  }

  /** Objects of each kind left out; kinds whose compiler ran are present even with 0. */
  Map<Kind, Integer> counts() {
    return counts;
  }
}
