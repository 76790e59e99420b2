package io.archway.dataplane.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code curl} commands of the seed documents ({@code ../shared/seeds/}), read as a shell reads
 * them: backslash-newline continues a line, single quotes keep everything (newlines included). One
 * liberty, the published text's own: the limit-req example closes its body's {@code '} with a
 * typographic {@code ’}, which is taken as that closing quote (a shell would wait for more).
 */
record SeedCommands(String method, String url, Map<String, String> headers, String body) {

  /** Where the seeds are, from the dataplane module's directory. */
  static final Path SEEDS = Path.of("../../shared/seeds");

  static List<SeedCommands> read() throws IOException {
    if (!Files.isDirectory(SEEDS)) {
      throw new IllegalStateException(
          "the seeds are read from ../shared/seeds beside the repository, and "
              + SEEDS.toAbsolutePath().normalize()
              + " is not a directory (expected: the project's shared documents next to the clone)");
    }
    var out = new ArrayList<SeedCommands>();
    try (var files = Files.list(SEEDS)) {
      for (var f : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
        var text = Files.readString(f);
        int at = 0;
        while ((at = text.indexOf("curl ", at)) >= 0) {
          if (at == 0 || Character.isWhitespace(text.charAt(at - 1))) {
            var words = new ArrayList<String>();
            at = words(text, at, words);
            out.add(of(words));
          } else {
            at += 5;
          }
        }
      }
    }
    return out;
  }

  /** The words of the command starting at {@code from}; returns where it ends. */
  private static int words(String text, int from, List<String> words) {
    var word = new StringBuilder();
    boolean inWord = false;
    int i = from;
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
        i++;
      } else if (c == '\'') {
        inWord = true;
        int j = i + 1;
        while (j < text.length()
            && text.charAt(j) != '\''
            && !(text.charAt(j) == '’' && (j + 1 == text.length() || text.charAt(j + 1) == '\n'))) {
          j++;
        }
        word.append(text, i + 1, j);
        i = j;
      } else if (c == '\n' || c == ' ' || c == '\t') {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
        if (c == '\n') {
          break;
        }
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      words.add(word.toString());
    }
    return i;
  }

  private static SeedCommands of(List<String> words) {
    String method = null;
    String url = null;
    String body = null;
    var headers = new LinkedHashMap<String, String>();
    for (int i = 1; i < words.size(); i++) {
      var w = words.get(i);
      switch (w) {
        case "-X" -> method = words.get(++i);
        case "-H" -> {
          var h = words.get(++i);
          int colon = h.indexOf(':');
          headers.put(h.substring(0, colon).strip(), h.substring(colon + 1).strip());
        }
        case "-d", "--data" -> body = words.get(++i);
        default -> url = w;
      }
    }
    if (method == null) {
      method = body == null ? "GET" : "POST";
    }
    if (body != null && !headers.containsKey("Content-Type")) {
      // What curl sends with -d.
      headers.put("Content-Type", "application/x-www-form-urlencoded");
    }
    return new SeedCommands(method, url, headers, body);
  }
}
