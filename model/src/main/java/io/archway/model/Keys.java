package io.archway.model;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The etcd key layout: {@code <prefix>/<dir>/<id>}, prefix {@code /apisix} by default, as APISIX
 * 3.x writes it.
 */
public final class Keys {

  public static final String DEFAULT_PREFIX = "/apisix";

  private final String prefix;

  private Keys(String prefix) {
    this.prefix = prefix;
  }

  /**
   * @param prefix starts with {@code /}; a trailing {@code /} is dropped
   * @throws IllegalArgumentException for a prefix that is not an absolute key path
   */
  public static Keys of(String prefix) {
    if (prefix == null || !prefix.startsWith("/") || prefix.contains("//")) {
      throw new IllegalArgumentException(
          "prefix: \"" + prefix + "\" (expected: starts with \"/\", e.g. /apisix)");
    }
    var p =
        prefix.length() > 1 && prefix.endsWith("/")
            ? prefix.substring(0, prefix.length() - 1)
            : prefix;
    return new Keys(p.equals("/") ? "" : p);
  }

  public String prefix() {
    return prefix.isEmpty() ? "/" : prefix;
  }

  /** {@code <prefix>/}: everything under it is the gateway's config. */
  public String root() {
    return prefix + "/";
  }

  public String dir(Kind kind) {
    return prefix + "/" + kind.keyDir() + "/";
  }

  public String key(Kind kind, String id) {
    return dir(kind) + id;
  }

  /**
   * An item's key without the prefix, {@code <dir>/<id>} (e.g. {@code upstreams/web}): how the
   * dataplane names what it compiled from an item, and how logs and messages name the item.
   */
  public static String item(Kind kind, String id) {
    return kind.keyDir() + "/" + id;
  }

  public byte[] keyBytes(Kind kind, String id) {
    return key(kind, id).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The kind and id of a key under this prefix; empty for keys of no known kind (and for the
   * directory markers APISIX 2.x wrote, {@code <prefix>/routes} with no id).
   */
  public Optional<Key> parse(String key) {
    if (!key.startsWith(root())) {
      return Optional.empty();
    }
    return parseItem(key.substring(root().length()));
  }

  /**
   * The kind and id of an item key without the prefix ({@link #item}'s form, e.g. {@code routes/1}
   * or {@code consumers/jack/credentials/c1}); empty for keys of no known kind.
   */
  public static Optional<Key> parseItem(String item) {
    int slash = item.indexOf('/');
    if (slash <= 0 || slash == item.length() - 1) {
      return Optional.empty();
    }
    var dir = item.substring(0, slash);
    var id = item.substring(slash + 1);
    if (dir.equals(Kind.CONSUMERS.dir()) && Credential.ID.matcher(id).matches()) {
      return Optional.of(new Key(Kind.CREDENTIALS, id));
    }
    if (dir.equals(Kind.SECRETS.dir())) {
      // secrets/<manager>/<id>; the bare secrets/<manager> directory is no item.
      return Secret.ID.matcher(id).matches()
          ? Optional.of(new Key(Kind.SECRETS, id))
          : Optional.empty();
    }
    return Kind.ofDir(dir)
        .filter(k -> k.keyDir().equals(dir) && id.indexOf('/') < 0)
        .map(k -> new Key(k, id));
  }

  /** One item's place in the config: its kind and id. */
  public record Key(Kind kind, String id) implements Comparable<Key> {

    @Override
    public int compareTo(Key o) {
      int c = kind.compareTo(o.kind);
      return c != 0 ? c : id.compareTo(o.id);
    }

    @Override
    public String toString() {
      return item(kind, id);
    }
  }
}
