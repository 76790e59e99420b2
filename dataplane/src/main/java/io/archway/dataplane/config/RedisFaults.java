package io.archway.dataplane.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import io.archway.model.UserRegex;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The {@code faults} of a Redis stream route, compiled: {@code [{commands, key, delay}]}. A command
 * matches a rule when its name is among {@code commands} (any case) and its key matches {@code key}
 * (a glob with {@code *}, {@code ?} and {@code [...]}, as Redis's own {@code KEYS}; {@code *} when
 * absent). When several rules match, the last one wins, so a later, narrower rule can override an
 * earlier one.
 */
public final class RedisFaults {

  public static final RedisFaults NONE = new RedisFaults(List.of());

  private record Rule(List<String> commands, Pattern key, long delayNanos) {}

  private final List<Rule> rules;

  private RedisFaults(List<Rule> rules) {
    this.rules = rules;
  }

  /**
   * Compiles {@code conf.faults}.
   *
   * @throws IllegalArgumentException naming the field at fault
   */
  public static RedisFaults compile(JsonNode faults) {
    if (faults == null || faults.isNull() || faults.isMissingNode()) {
      return NONE;
    }
    if (!faults.isArray()) {
      throw new IllegalArgumentException("protocol.conf.faults: expected an array");
    }
    var rules = new ArrayList<Rule>();
    for (int i = 0; i < faults.size(); i++) {
      var f = faults.get(i);
      var at = "protocol.conf.faults[" + i + "]";
      if (!f.isObject()) {
        throw new IllegalArgumentException(at + ": expected an object {commands, key, delay}");
      }
      var commands = f.get("commands");
      if (commands == null || !commands.isArray() || commands.isEmpty()) {
        throw new IllegalArgumentException(at + ".commands: expected a non-empty array of names");
      }
      var names = new ArrayList<String>();
      for (var c : commands) {
        if (!c.isTextual() || c.asText().isBlank()) {
          throw new IllegalArgumentException(at + ".commands: expected command names");
        }
        names.add(c.asText().toLowerCase(Locale.ROOT));
      }
      var delay = f.get("delay");
      if (delay == null || !delay.isNumber() || delay.asDouble() < 0) {
        throw new IllegalArgumentException(at + ".delay: expected seconds >= 0");
      }
      var key = f.get("key");
      if (key != null && !key.isTextual()) {
        throw new IllegalArgumentException(at + ".key: expected a glob pattern");
      }
      rules.add(
          new Rule(
              List.copyOf(names),
              glob(at + ".key", key == null ? "*" : key.asText()),
              (long) (delay.asDouble() * 1e9)));
    }
    return new RedisFaults(List.copyOf(rules));
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** The delay for this command, in nanoseconds; 0 for none. */
  public long delayNanos(String command, String key) {
    return delayNanos(command, () -> key);
  }

  /**
   * The same for a command whose key is decoded only if a rule names the command (callers on the
   * hot path check {@link #isEmpty} first, so a route without faults allocates no supplier).
   */
  public long delayNanos(String command, Supplier<String> key) {
    for (int i = rules.size() - 1; i >= 0; i--) {
      var r = rules.get(i);
      if (r.commands.contains(command) && UserRegex.matches(r.key, key.get())) {
        return r.delayNanos;
      }
    }
    return 0;
  }

  /**
   * A Redis glob as a regular expression ({@link UserRegex}: linear-time, as the glob's class may
   * hold anything): {@code *}, {@code ?}, {@code [abc]}, {@code \x}.
   */
  static Pattern glob(String field, String glob) {
    var re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        case '[' -> {
          int close = glob.indexOf(']', i + 1);
          if (close < 0) {
            re.append("\\[");
          } else {
            var set = glob.substring(i + 1, close);
            re.append('[');
            if (set.startsWith("^")) {
              re.append('^');
              set = set.substring(1);
            }
            re.append(set.replace("\\", "\\\\").replace("[", "\\["));
            re.append(']');
            i = close;
          }
        }
        case '\\' -> {
          if (i + 1 < glob.length()) {
            re.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
          }
        }
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return UserRegex.compile(field, re.toString(), Pattern.DOTALL);
  }
}
