package io.archway.model;

import com.fasterxml.jackson.databind.node.TextNode;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The one place where a regular expression written by a user (route {@code vars} {@code ~~} and
 * {@code ~*}, {@code regex_uri} of proxy-rewrite and redirect, response-rewrite filters, the
 * patterns of uri-blocker, ua-restriction, cors, ai-prompt-guard, PluginFlow conditions, Redis
 * fault keys, the TLS skip list, the operator's Gateway API and ApisixRoute regexes) is compiled.
 *
 * <p>They run on RE2/J: matching takes time linear in the input whatever the pattern, so a pattern
 * such as {@code ^(a+)+$} cannot backtrack catastrophically on a request's value (which, on an
 * event loop, would stall every connection of that loop). The price is RE2's syntax: APISIX uses
 * PCRE, and RE2 refuses backreferences ({@code \1}), lookaround ({@code (?=}, {@code (?!}, {@code
 * (?<=}, {@code (?<!}), atomic groups and possessive quantifiers, {@code \Z}, and repeat counts
 * over 1000. Such a pattern is refused when the config is read, with a message naming the field; it
 * never compiles into something that would match differently. Capture groups ({@code $1}, {@code
 * ${name}} in replacements), named groups ({@code (?<name>…)}, {@code (?P<name>…)}), Perl classes,
 * POSIX classes and {@code (?i)} are the same.
 *
 * <p>Patterns of our own, fixed in the code, stay on {@code java.util.regex}.
 */
public final class UserRegex {

  /** RE2/J's case-insensitive flag (for {@code ~*} and the plugins' {@code i} options). */
  public static final int CASE_INSENSITIVE = Pattern.CASE_INSENSITIVE;

  /** What a refused pattern is expected to be, the start of every message. */
  static final String EXPECTED =
      "a valid regular expression in RE2 syntax, without backreferences or lookaround";

  private UserRegex() {}

  /**
   * {@code regex} compiled, or an {@link IllegalArgumentException} whose message is {@code field:
   * "regex" (expected: …: why)}.
   */
  public static Pattern compile(String field, String regex, int flags) {
    try {
      return Pattern.compile(regex, flags);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          field + ": " + Fields.show(TextNode.valueOf(regex)) + " (expected: " + expected(e) + ")",
          e);
    }
  }

  /** {@link #compile(String, String, int)} without flags. */
  public static Pattern compile(String field, String regex) {
    return compile(field, regex, 0);
  }

  /**
   * Each of {@code regexes} compiled, the {@code i}th named {@code field[i]} in an error (as {@link
   * #compile(String, String, int)}).
   */
  public static List<Pattern> compileAll(String field, List<String> regexes, int flags) {
    var out = new ArrayList<Pattern>(regexes.size());
    for (int i = 0; i < regexes.size(); i++) {
      out.add(compile(field + "[" + i + "]", regexes.get(i), flags));
    }
    return List.copyOf(out);
  }

  /**
   * {@code regex} compiled, or {@code null} after handing {@code problem} the expectation it misses
   * (as {@link #problem}), for a caller that collects problems rather than throw.
   */
  public static Pattern compile(String regex, int flags, Consumer<String> problem) {
    try {
      return Pattern.compile(regex, flags);
    } catch (PatternSyntaxException e) {
      problem.accept(expected(e));
      return null;
    }
  }

  /**
   * {@code null} when {@code regex} compiles, else the expectation it misses, for a message of the
   * caller's own shape: {@code a valid regular expression in RE2 syntax, …: invalid escape
   * sequence: `\1`}.
   */
  public static String problem(String regex) {
    try {
      Pattern.compile(regex);
      return null;
    } catch (PatternSyntaxException e) {
      return expected(e);
    }
  }

  /** Whether {@code p} is found in {@code value}. */
  public static boolean find(Pattern p, String value) {
    return p.matcher(value).find();
  }

  /** Whether {@code p} matches all of {@code value}. */
  public static boolean matches(Pattern p, String value) {
    return p.matcher(value).matches();
  }

  /**
   * {@code input} with the first match of {@code p} replaced ({@code $1}, {@code ${name}} name
   * groups, {@code \$} is a dollar), or {@code null} when there is none.
   */
  public static String replaceFirst(Pattern p, String input, String replacement) {
    var m = p.matcher(input);
    return m.find() ? m.replaceFirst(replacement) : null;
  }

  /** {@code replacement} as a literal, for {@link #replaceFirst}. */
  public static String quoteReplacement(String replacement) {
    return com.google.re2j.Matcher.quoteReplacement(replacement);
  }

  private static String expected(PatternSyntaxException e) {
    var why = e.getMessage();
    var prefix = "error parsing regexp: ";
    if (why != null && why.startsWith(prefix)) {
      why = why.substring(prefix.length());
    }
    return EXPECTED + ": " + why;
  }
}
