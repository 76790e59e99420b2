package io.archway.dataplane.admin;

import io.archway.model.Kind;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What an Admin API path names: a collection ({@code routes}, {@code consumers/jack/credentials},
 * {@code secrets/vault}), an object in one, or a part of an object ({@code routes/1/plugins}, for
 * PATCH).
 */
final class AdminPaths {

  /** Resource directories the dataplane's model does not have: stored and served, not acted on. */
  static final Set<String> EXTRA = Set.of("secrets");

  static final String CREDENTIALS = "credentials";

  private AdminPaths() {}

  /**
   * @param type what validates the objects: a {@link Kind}'s directory, {@code credentials}, or one
   *     of {@link #EXTRA}
   * @param kind the model's kind, or {@code null} for the others
   * @param dir the store's key prefix of the collection, e.g. {@code routes/}
   * @param id the object's id, or {@code null} for the collection
   * @param sub the path inside the object, empty for the whole
   */
  record Target(String type, Kind kind, String dir, String id, List<String> sub) {

    String key() {
      return dir + id;
    }

    boolean collection() {
      return id == null;
    }

    /** How many {@code /}-separated parts an id in a listing of this collection has. */
    int idParts() {
      return type.equals("secrets") && dir.equals("secrets/") ? 2 : 1;
    }

    /** The field holding the object's id in its value. */
    String idField() {
      return kind == null ? "id" : kind.idField();
    }
  }

  /** Every resource directory, for messages. */
  static String known() {
    var all = new TreeSet<String>(EXTRA);
    // Credentials are under their consumer, not a directory of their own.
    Arrays.stream(Kind.values())
        .filter(k -> k != Kind.CREDENTIALS)
        .map(Kind::dir)
        .forEach(all::add);
    return String.join(", ", all);
  }

  /**
   * The target of {@code rest}, the path after {@code /apisix/admin/}; empty for a path that names
   * no resource.
   */
  static Optional<Target> parse(String rest) {
    var s = rest.endsWith("/") ? rest.substring(0, rest.length() - 1) : rest;
    if (s.isEmpty()) {
      return Optional.empty();
    }
    var parts = List.of(s.split("/", -1));
    if (parts.stream().anyMatch(String::isEmpty)) {
      return Optional.empty();
    }
    var dir = parts.get(0);
    int n = parts.size();
    if (dir.equals("consumers") && n >= 3 && parts.get(2).equals(CREDENTIALS)) {
      if (n > 4) {
        return Optional.empty();
      }
      var d = "consumers/" + parts.get(1) + "/credentials/";
      return Optional.of(new Target(CREDENTIALS, null, d, n == 4 ? parts.get(3) : null, List.of()));
    }
    if (dir.equals("secrets")) {
      return switch (n) {
        case 1 -> Optional.of(new Target("secrets", null, "secrets/", null, List.of()));
        case 2 ->
            Optional.of(
                new Target("secrets", null, "secrets/" + parts.get(1) + "/", null, List.of()));
        case 3 ->
            Optional.of(
                new Target(
                    "secrets", null, "secrets/" + parts.get(1) + "/", parts.get(2), List.of()));
        default -> Optional.empty();
      };
    }
    var kind = Kind.ofDir(dir).filter(k -> k != Kind.CREDENTIALS);
    if (kind.isEmpty() && !EXTRA.contains(dir)) {
      return Optional.empty();
    }
    var k = kind.orElse(null);
    return Optional.of(
        new Target(
            dir,
            k,
            dir + "/",
            n >= 2 ? parts.get(1) : null,
            n > 2 ? parts.subList(2, n) : List.of()));
  }
}
